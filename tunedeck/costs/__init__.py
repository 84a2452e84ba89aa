"""What fine-tuning costs: dated, sourced price figures and training cost estimates.

Every figure here is an estimate with an as-of date and a source; nothing is presented as a bill.
"""

from tunedeck.costs.prices import CostEstimate, Price, estimate_training_cost, known_models, training_price

__all__ = ["CostEstimate", "Price", "estimate_training_cost", "known_models", "training_price"]
