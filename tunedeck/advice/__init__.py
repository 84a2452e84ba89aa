"""Advice on prompting versus fine-tuning, from a paired evaluation of the candidates and their costs."""

from tunedeck.advice.advise import Advice, AdviseRequest, advice_from_report, advise, decide
from tunedeck.advice.candidates import Candidate

__all__ = ["Advice", "AdviseRequest", "Candidate", "advice_from_report", "advise", "decide"]
