"""An optional billing budget on the project, alerting at configured fractions of the amount."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components import COMPONENT_PREFIX


@dataclass(frozen=True)
class ProjectBudgetArgs:
    project: str
    billing_account: str
    amount: int
    currency: str
    thresholds: Sequence[float]
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class ProjectBudget(pulumi.ComponentResource):
    def __init__(self, name: str, args: ProjectBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:ProjectBudget", name, None, opts)
        # Budget filters take the project *number*, which only GCP knows.
        project = gcp.organizations.get_project_output(
            project_id=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.budget = gcp.billing.Budget(
            f"{name}-budget",
            billing_account=pulumi.Output.secret(args.billing_account),
            display_name=f"tunedeck {args.project}"[:60],
            budget_filter=gcp.billing.BudgetBudgetFilterArgs(
                projects=[project.number.apply(lambda number: f"projects/{number}")]
            ),
            amount=gcp.billing.BudgetAmountArgs(
                specified_amount=gcp.billing.BudgetAmountSpecifiedAmountArgs(
                    currency_code=args.currency, units=str(args.amount)
                )
            ),
            threshold_rules=[gcp.billing.BudgetThresholdRuleArgs(threshold_percent=t) for t in args.thresholds],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"budget": self.budget.name})
