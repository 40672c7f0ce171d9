"""The classifier: keyword rules over jieba tokens, the rules files, and the per-process cache."""

from .book import RuleBook, render_explanation, seed_default_topics
from .engine import Classifier, Explanation
from .rulesfile import DEFAULT_RULES, RulesFileError, dump_rules, load_rules_file, parse_rules

__all__ = [
    "DEFAULT_RULES",
    "Classifier",
    "Explanation",
    "RuleBook",
    "RulesFileError",
    "dump_rules",
    "load_rules_file",
    "parse_rules",
    "render_explanation",
    "seed_default_topics",
]
