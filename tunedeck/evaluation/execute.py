"""Carrying out a plan: answers, then the rubric judge's verdicts, then the pairwise judge's, each stored as it lands.

Every answer and verdict is written to the store the moment it arrives, so a killed run loses at most the
requests in flight; the same command (or `--resume RUN`) asks only what is missing. Progress goes out as
`ProgressAdvanced` events on the workspace's bus.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import TYPE_CHECKING, Any

from tunedeck.errors import TunedeckError
from tunedeck.evaluation.costs import InferencePrice, inference_price
from tunedeck.evaluation.items import cache_key
from tunedeck.evaluation.judge import (
    JUDGE_MAX_TOKENS,
    JudgeConfig,
    VerdictError,
    combine_pairwise,
    pairwise_messages,
    parse_pairwise_choice,
    parse_rubric_verdict,
    rubric_messages,
)
from tunedeck.evaluation.metrics import JUDGE, JUDGE_SCORE, score_all
from tunedeck.evaluation.plan import EvalPlan, Unit
from tunedeck.evaluation.runner import Reply, Request, Throttle, ask, run_parallel
from tunedeck.events import ProgressAdvanced
from tunedeck.exitcodes import ExitCode
from tunedeck.profiles.evaluate import one_line
from tunedeck.store.evals import EvalRunRecord, EvalSample, Judgement

if TYPE_CHECKING:
    from tunedeck.evaluation.actions import EvalWorkspace


class Execution:
    def __init__(self, ws: EvalWorkspace, plan: EvalPlan, stop: Callable[[], bool] | None = None) -> None:
        self.ws, self.plan = ws, plan
        self.stop = stop
        self.throttle = Throttle(plan.concurrency)
        self.prices: dict[tuple[str, str], InferencePrice | None] = {}
        self.done = 0
        self.total = 0
        self.positions = {item.index: position for position, item in enumerate(plan.items)}
        self.run: EvalRunRecord | None = plan.run

    def __call__(self) -> EvalRunRecord:
        store, plan = self.ws.store, self.plan
        if self.run is None:
            self.run = store.create_eval_run(plan.fingerprint, plan.spec, [item.record() for item in plan.items])
            plan.run = self.run  # so a front end interrupted mid-run can say which run to resume
        else:
            store.update_eval_run_spec(self.run.id, plan.spec)
            store.set_eval_run_status(self.run.id, "running")
        try:
            for provider in {t.provider for t in plan.targets} | ({plan.judge.provider} if plan.judge else set()):
                self.ws.provider(provider)  # set up each adapter once, here: a missing key fails before any call
            self._answers()
            if plan.judge is not None:
                self._rubric(plan.judge)
                if plan.judge.pairwise:
                    self._pairwise(plan.judge)
        except BaseException:
            store.set_eval_run_status(self.run.id, "interrupted")
            raise
        store.set_eval_run_status(self.run.id, "finished")
        self._progress("done")
        return self.run

    # -- phases -----------------------------------------------------------------------------------------

    def _answers(self) -> None:
        assert self.run is not None
        store = self.ws.store
        fresh = [unit for unit in self.plan.units if unit.cached is None and not unit.twin]
        self.total = len(fresh) + self._judge_calls()
        for unit in self.plan.units:
            if unit.cached is not None:
                store.record_eval_sample(self.run.id, self._from_cache(unit, unit.cached))
        self._progress("answers")
        run_parallel((self._answer_task(unit) for unit in fresh), self.plan.concurrency, self.throttle, self._step)
        # Requests this run sent twice (two labels for one model): copy the answer; ask if the first one failed.
        retry = []
        for unit in (u for u in self.plan.units if u.twin):
            answered = store.cached_eval_sample(unit.cache_key)
            if answered is not None:
                store.record_eval_sample(self.run.id, self._from_cache(unit, answered))
            else:
                retry.append(unit)
        run_parallel((self._answer_task(unit) for unit in retry), self.plan.concurrency, self.throttle, self._step)

    def _rubric(self, judge: JudgeConfig) -> None:
        assert self.run is not None
        store = self.ws.store
        judged = {(j.subject, j.item, j.repeat): j for j in store.judgements(self.run.id, "rubric")}
        todo = []
        for sample in store.eval_samples(self.run.id):
            known = judged.get((sample.model, sample.item, sample.repeat))
            if sample.error is None and (known is None or (known.error and self.plan.retry_errors)):
                todo.append(sample)
        run_parallel((self._rubric_task(judge, s) for s in todo), self.plan.concurrency, self.throttle, self._step)

    def _pairwise(self, judge: JudgeConfig) -> None:
        assert self.run is not None
        store = self.ws.store
        answers = {(s.model, s.item, s.repeat): s for s in store.eval_samples(self.run.id) if s.error is None}
        judged = {(j.subject, j.item, j.repeat): j for j in store.judgements(self.run.id, "pairwise")}
        tasks = []
        for a, b in combinations([t.label for t in self.plan.targets], 2):
            for (label, item, repeat), first in answers.items():
                second = answers.get((b, item, repeat))
                known = judged.get((f"{a}|{b}", item, repeat))
                if label != a or second is None or (known is not None and not (known.error and self.plan.retry_errors)):
                    continue
                tasks.append(self._pairwise_task(judge, a, b, first, second))
        run_parallel(tasks, self.plan.concurrency, self.throttle, self._step)

    # -- tasks (run on worker threads) ------------------------------------------------------------------

    def _answer_task(self, unit: Unit) -> Callable[[], str]:
        def task() -> str:
            assert self.run is not None
            target = unit.target
            request = Request(target.provider, target.model, unit.messages, self._max_tokens(unit), self._temperature)
            reply = ask(self.ws.chat, self.throttle, request)
            scores = score_all(self.plan.metrics, reply.text, unit.item.reference) if reply.text is not None else {}
            cost = self._cost(target.provider, target.model, reply) if reply.error is None else None
            sample = EvalSample(
                target.label, unit.item.index, unit.repeat, unit.item.prompt_hash, unit.cache_key, reply.text,
                reply.error, reply.latency_s, reply.prompt_tokens, reply.completion_tokens, cost, scores=scores,
            )  # fmt: skip
            self.ws.store.record_eval_sample(self.run.id, sample)
            return f"{target.label}: {one_line(unit.item.question, 40)}"

        return task

    def _rubric_task(self, judge: JudgeConfig, sample: EvalSample) -> Callable[[], str]:
        def task() -> str:
            assert self.run is not None
            item = self.plan.items[self.positions[sample.item]]
            messages = rubric_messages(judge.rubric, self._prompt(sample.model, sample.item), item.reference,
                                       sample.output or "")  # fmt: skip
            key = cache_key(judge.provider, judge.model, messages, JUDGE_MAX_TOKENS, 0.0, 0)
            verdict, error, reply = self._verdict(judge, messages, key, "rubric", parse_rubric_verdict)
            self.ws.store.record_judgement(self.run.id, self._judgement("rubric", sample.model, sample, key, verdict,
                                                                       error, reply))  # fmt: skip
            if verdict is not None:
                scores = {**sample.scores, JUDGE: float(verdict["pass"]), JUDGE_SCORE: float(verdict["score"])}
                assert sample.id is not None
                self.ws.store.update_eval_scores({sample.id: scores})
            return f"judge: {sample.model}"

        return task

    def _pairwise_task(
        self, judge: JudgeConfig, a: str, b: str, first: EvalSample, second: EvalSample
    ) -> Callable[[], str]:
        def task() -> str:
            assert self.run is not None
            prompt = self._prompt(a, first.item)
            orders = [
                pairwise_messages(judge.rubric, prompt, first.output or "", second.output or ""),
                pairwise_messages(judge.rubric, prompt, second.output or "", first.output or ""),
            ]
            keys = [cache_key(judge.provider, judge.model, m, JUDGE_MAX_TOKENS, 0.0, 0) for m in orders]
            key = "|".join(keys)
            choices, errors, replies = [], [], []
            for messages, one_key in zip(orders, keys, strict=True):
                choice, error, reply = self._verdict(judge, messages, one_key, "pairwise-order", _choice)
                choices.append(choice["winner"] if choice else None)
                errors.append(error)
                replies.append(reply)
            error = next((e for e in errors if e), None)
            verdict = None
            if error is None and choices[0] is not None and choices[1] is not None:
                verdict = {"winner": combine_pairwise(choices[0], choices[1]), "a_first": choices[0],
                           "b_first": choices[1]}  # fmt: skip
            reply = _sum_replies(replies)
            self.ws.store.record_judgement(self.run.id, self._judgement("pairwise", f"{a}|{b}", first, key, verdict,
                                                                       error, reply))  # fmt: skip
            return f"pairwise judge: {a} vs {b}"

        return task

    # -- helpers ----------------------------------------------------------------------------------------

    def _verdict(
        self, judge: JudgeConfig, messages: list[Any], key: str, kind: str, parse: Callable[[str], dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, str | None, Reply | None]:
        """A verdict from the cache, or asked now; the judge's reply kept as `reason` when it cannot be read."""
        cached = None if self.plan.no_cache else self.ws.store.cached_judgement(kind, key)
        if cached is not None and cached.verdict is not None:
            return cached.verdict, None, None
        reply = ask(self.ws.chat, self.throttle, Request(judge.provider, judge.model, messages, JUDGE_MAX_TOKENS, 0.0))
        if reply.error is not None:
            return None, reply.error, reply
        try:
            verdict = parse(reply.text or "")
        except VerdictError as exc:
            return None, str(exc), reply
        assert self.run is not None
        # Each order of a pairwise verdict is cached on its own, so a rerun re-asks only what failed.
        if kind == "pairwise-order":
            self.ws.store.record_judgement(self.run.id, Judgement(kind, key, -1, -1, key, verdict))
        return verdict, None, reply

    def _judgement(
        self, kind: str, subject: str, sample: EvalSample, key: str, verdict: dict[str, Any] | None,
        error: str | None, reply: Reply | None,
    ) -> Judgement:  # fmt: skip
        assert self.plan.judge is not None
        judge = self.plan.judge
        cost = self._cost(judge.provider, judge.model, reply) if reply is not None and error is None else None
        if reply is None and error is None:
            cost = 0.0  # from the cache: nothing paid now
        return Judgement(
            kind, subject, sample.item, sample.repeat, key, verdict, error,
            reply.latency_s if reply else None, reply.prompt_tokens if reply else None,
            reply.completion_tokens if reply else None, cost,
        )  # fmt: skip

    def _from_cache(self, unit: Unit, cached: EvalSample) -> EvalSample:
        scores = score_all(self.plan.metrics, cached.output or "", unit.item.reference)
        return EvalSample(
            unit.target.label, unit.item.index, unit.repeat, unit.item.prompt_hash, unit.cache_key, cached.output,
            None, cached.latency_s, cached.prompt_tokens, cached.completion_tokens, 0.0, cached.id, scores,
        )  # fmt: skip

    def _prompt(self, label: str, item: int) -> list[Any]:
        return self.plan.prompts[label][self.positions[item]]

    def _max_tokens(self, unit: Unit) -> int:
        return unit.target.max_tokens or int(self.plan.spec.get("max_tokens", 256))

    @property
    def _temperature(self) -> float:
        return float(self.plan.spec.get("temperature", 0.0))

    def _cost(self, provider: str, model: str, reply: Reply | None) -> float | None:
        if reply is None:
            return None
        if (provider, model) not in self.prices:
            self.prices[(provider, model)] = inference_price(self.ws.settings, provider, model)
        price = self.prices[(provider, model)]
        return price.cost(reply.prompt_tokens, reply.completion_tokens) if price else None

    def _judge_calls(self) -> int:
        judge = self.plan.judge
        if judge is None:
            return 0
        per_answer = 1 + (len(self.plan.targets) - 1 if judge.pairwise else 0)
        return len(self.plan.units) * per_answer

    def _step(self, message: str) -> None:
        self.done += 1
        self.total = max(self.total, self.done)
        self._progress(message)
        if self.stop is not None and self.stop():
            # Raised on the thread that collects answers: no new request starts, those in flight are recorded.
            assert self.run is not None
            raise TunedeckError(
                "Evaluation stopped.",
                f"The answers so far are kept in {self.run.id}; resume it to ask only the rest.",
                exit_code=ExitCode.CANCELLED,
            )

    def _progress(self, message: str) -> None:
        assert self.run is not None
        total = self.total or None
        self.ws.publish(ProgressAdvanced(f"eval {self.run.id}", self.done, total, "calls", message))


def _choice(reply: str) -> dict[str, Any]:
    return {"winner": parse_pairwise_choice(reply)}


def _sum_replies(replies: list[Reply | None]) -> Reply | None:
    asked = [r for r in replies if r is not None]
    if not asked:
        return None
    return Reply(
        "", None, sum(r.latency_s for r in asked),
        sum(r.prompt_tokens or 0 for r in asked) or None, sum(r.completion_tokens or 0 for r in asked) or None,
    )  # fmt: skip
