"""The claims the bot must never make, in any language (facts.md, "Three errors").

1. That a written request is required by federal law (IDEA does not say so; some states do).
2. That the 60 days run from the parent's request (they run from the school's receipt of the
   signed consent, or the state's own timeline).
3. That a 504 plan is accommodations only (504 can include services: 34 CFR 104.33(b)).
4. And the bot never says in its own voice that a child qualifies or is eligible (only the
   school team decides), though it may quote the school: 'the school said "he doesn't qualify"'.

A list of exact phrases catches almost none of the ways a writer can put these, so the rules
are co-occurrence rules over one sentence at a time (English and Spanish): a sentence that has
a writing word and an obligation word, `60` and a request word, `504` and "only ...
accommodations", and so on, with the exceptions the real text needs (a negation, "writing is
best", the school's own duty to write, a count from consent). Quoted text ("…", “…”, «…») is
the school's or a myth's voice, not the bot's, and is ignored.

The rules aim at the paraphrases in tests/test_forbidden.py and the text the bot really says;
a new wording that slips through belongs in that test, with the rule widened to catch it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.checks.readability import normalize

WRITTEN_REQUIRED = "says a written request is required by federal law"
SIXTY_FROM_REQUEST = (
    "counts the 60 days from the request (they run from the school's receipt of consent)"
)
ACCOMMODATIONS_ONLY = "says a 504 plan is accommodations only (it can include services)"
ELIGIBILITY = (
    "says in the bot's own voice whether the child qualifies (only the school team decides)"
)

_F = re.IGNORECASE | re.UNICODE

# --- sentences ----------------------------------------------------------------------------

_QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|«[^»\n]*»|‘[^’\n]*’")
_STOPS = str.maketrans({".": "\u2024", "!": "\u01c3", "?": "\u0294"})
_UNSTOPS = str.maketrans({"\u2024": ".", "\u01c3": "!", "\u0294": "?"})
_SPLIT = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+|\n+")
_ABBREVIATIONS = re.compile(r"\b(?:U\.S|e\.g|i\.e|etc|vs|p\. ej|EE\. UU)\.", _F)


def sentences(text: str) -> list[str]:
    """The sentences of a string as a reader meets them (tags gone, every line a sentence).

    A full stop inside quotation marks does not end the sentence around the quotation.
    """
    plain = normalize(text)
    plain = _QUOTED.sub(lambda m: m.group(0).translate(_STOPS), plain)
    plain = _ABBREVIATIONS.sub(lambda m: m.group(0).translate(_STOPS), plain)
    return [s.translate(_UNSTOPS).strip() for s in _SPLIT.split(plain) if s.strip()]


def _unquoted(sentence: str) -> str:
    return _QUOTED.sub(' "…" ', sentence)


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), _F)


# --- 1. "a written request is required" -----------------------------------------------------

_WRITING = _rx(r"\bwrit\w*", r"\bescrit\w*", r"\bescrib\w*", r"\bpor carta\b", r"\bin a letter\b")
# Writing that is not the parent's request: the school's notice, the consent form, the plan.
_NOT_A_REQUEST = _rx(
    r"\b(?:prior\s+)?written\s+(?:notice|consent)\b",
    r"\bconsent\s+in\s+writing\b",
    r"\b(?:aviso|notificaci[oó]n)\s+(?:previ[oa]\s+)?(?:por\s+)?escrit[oa]\b",
    r"\bconsentimiento\s+(?:informado\s+)?(?:por\s+)?escrito\b",
    r"\bwrit\w*\s+(?:in|into|down\s+in)\s+(?:the|your\s+child's|his|her|their|a|an)\s+"
    r"(?:iep|plan|504)\b",
    r"\bescrit[oa]s?\s+en\s+el\s+(?:iep|plan|pei)\b",
)
_OBLIGATION = _rx(
    r"\bmust\b",
    r"\bshall\b",
    r"\brequire[sd]?\b",
    r"\brequirement\b",
    r"\b(?:has|have|had|got)\s+to\b",
    r"\bneeds?\s+to\b",
    r"\bmandatory\b",
    r"\bonly\s+(?:counts?|valid|accepted|official)\b",
    r"\bdeben?\b",
    r"\bdebes\b",
    r"\bexigen?\b",
    r"\bexigid[oa]\b",
    r"\btienen?\s+que\b",
    r"\bobligatori\w*",
    r"\bobligad[oa]\b",
    r"\bnecesita(?:n)?\s+(?:que\b|\w+(?:ar|er|ir)(?:la|lo|le|las|los)?\b)",
    r"\bhay\s+que\b",
    r"\brequier\w*",
    r"\brequisito\b",
    r"\b(?:es|sea)\s+necesari[oa]\b",
)
# Advice, not a rule, anywhere in the sentence.
_ADVICE = _rx(
    r"\bis\s+best\b",
    r"\bit'?s\s+best\b",
    r"\bbest\s+to\b",
    r"\bis\s+wise\b",
    r"\blo\s+mejor\b",
    r"\bes\s+mejor\b",
    r"\bconviene\b",
    r"\bnot\s+required\b",
    r"\bno\s+es\s+obligatori\w*",
)
# A negation just before the obligation, not across punctuation: "does not require",
# "no exige", "no federal law requires", "does not say the request must".
_NEGATION_BEFORE = _rx(r"(?:\bnot|n't|\bnever|\bno|\bnunca|\bni)\b(?:\s+[^\s,:;]+){0,3}\s*$")
# The school's own duty to write (Prior Written Notice, an answer to the parent).
# The subject just before the obligation word (one adverb may come between: "also", "then").
_ONE_WORD = r"(?:\s+(?!you\b|usted\b|parents?\b|padres\b)[^\s,:;]+)?\s*$"
_SCHOOL_NOUN = _rx(
    rf"\b(?:school|district|team|iep|plan|notice|escuela|distrito|equipo){_ONE_WORD}"
)
_SCHOOL_PRONOUN = _rx(rf"\b(?:it|they|[ée]sta|[ée]l){_ONE_WORD}")
_TELL = (
    r"(?:tell|explain|say|state|give|send|answer|respond|reply|notify|inform|describe|provide|"
    r"show|list)"
)
_TELLS_YOU = _rx(rf"^\s*(?:\w+\s+){{0,2}}?{_TELL}\w*\s+you\b")
_TELLS_REASONS = _rx(
    r"^\s*(?:\w+\s+){0,2}?put\s+(?:its|their|the|that|this)\b",
    rf"^\s*(?:\w+\s+){{0,2}}?{_TELL}\w*\s+"
    r"(?:its|their|the\s+reasons?|why|what|in\s+writing|it|this|that|them|so)\b",
    r"^\s*(?:\w+\s+){0,2}?(?:explicar|decir|dar|responder|contestar|informar|avisar|notificar|"
    r"enviar|entregar|mandar|poner)\w*\b",
)
_SCHOOL_TELLS = _rx(rf"^\s*(?:\w+\s+){{0,1}}?{_TELL}\w*\b", _TELLS_REASONS.pattern)
_SPANISH_TO_YOU = _rx(
    r"^\s*(?:\w+\s+){0,2}?(?:explicar|decir|dar|responder|contestar|informar|avisar|notificar|"
    r"enviar|entregar|mandar)(?:le|les|selo|sela)\b(?!\s+(?:a\s+la\s+escuela|al\s+distrito))"
)
_IS_WRITTEN = _rx(r"^\s*(?:be\s+)?(?:put\s+)?(?:in\s+writing|written|writ\w*\s+down)\b")
_CHILD_NEEDS = _rx(
    r"\b(?:child|son|daughter|student|kid|he|she|hij[oa]|niñ[oa]|estudiante|él|ella)\s*$"
)
_STATES = _rx(
    r"\b(?:some|a\s+few|many|certain|your|a)\s+states?\b", r"\b(?:algunos|su)\s+estados?\b"
)
_FEDERAL = _rx(r"\bfederal\b", r"\bidea\b", r"\bthe\s+law\b", r"\bla\s+ley\b")
# An indirect question is not a rule: "ask in writing if a review must be held",
# "pregunte por escrito si hay que hacer una revisión".
_WHETHER_BEFORE = _rx(r"\b(?:if|whether|si)(?:\s+[^\s,:;]+){0,3}\s*$")
# "se debe a" is "is due to", not "must": "si la conducta se debe a la discapacidad".
_DUE_TO = (_rx(r"\bse\s*$"), _rx(r"^\s+a\b"))


def _written_required(sentence: str) -> bool:
    text = _NOT_A_REQUEST.sub(" ", _unquoted(sentence))
    if not _WRITING.search(text) or _ADVICE.search(text):
        return False
    if _STATES.search(text) and not _FEDERAL.search(text):
        return False  # "Some states require a written request." is true
    return any(_binds_the_parent(text, m) for m in _OBLIGATION.finditer(text))


def _binds_the_parent(text: str, match: re.Match[str]) -> bool:
    """Whether this obligation word is a rule for the parent (not negated, not the school's)."""
    before, after = text[: match.start()][-50:], text[match.end() :]
    if _NEGATION_BEFORE.search(before) or _WHETHER_BEFORE.search(before):
        return False
    if "?" in after and ("¿" in before or ":" in before):
        return False  # the question to put to the school: "Ask in writing: must it ...?"
    if match.group(0).lower().startswith("debe") and all(
        rx.search(part) for rx, part in zip(_DUE_TO, (before, after), strict=True)
    ):
        return False
    if match.group(0).lower().startswith(("need", "necesit")) and _CHILD_NEEDS.search(before):
        return False  # "what your child needs to learn", "lo que su hijo necesita aprender"
    if _TELLS_YOU.search(after) or _SPANISH_TO_YOU.search(after):
        return False  # "it must tell you in writing why", "debe explicarle por escrito"
    if _SCHOOL_NOUN.search(before) and _SCHOOL_TELLS.search(after):
        return False  # "the school must explain it in writing"
    if _SCHOOL_PRONOUN.search(before) and _TELLS_REASONS.search(after):
        return False  # "it must explain its reasons in writing"
    # "the IEP must be written down"; not "it must be in writing" (it may be the request)
    return not (_SCHOOL_NOUN.search(before) and _IS_WRITTEN.search(after))


# --- 2. "60 days from your request" ----------------------------------------------------------

_SIXTY = _rx(r"\b60\b", r"\bsixty\b", r"\bsesenta\b")
_REQUEST = _rx(
    r"\brequest\w*",
    r"\bask(?:s|ed|ing)?\b",
    r"\bpid[eióo]\w*",
    r"\bpide\w*",
    r"\bpedid[oa]\b",
    r"\bpedirl[ao]\b",
    r"\bpetici[oó]n\b",
    r"\bsolicit\w*",
    r"\bpregunt\w*",
)
_CONSENT = _rx(r"\bconsent\w*", r"\bconsentimiento\b", r"\bpermis[oa]\b", r"\bpermission\b")
_NEGATION = _rx(r"\bnot\b", r"n't\b", r"\bnever\b", r"\bno\b", r"\bnunca\b", r"\bni\b")


def _sixty_from_request(sentence: str) -> bool:
    text = _unquoted(sentence)
    for number in _SIXTY.finditer(text):
        after = text[number.end() :]
        request = _REQUEST.search(after)
        if request is None:
            # "You asked? The school has 60 days" is rare; a request before 60 counts only when
            # the sentence has no consent at all and no negation ("60 days ... when you asked").
            before = text[: number.start()]
            if _REQUEST.search(before) and not _CONSENT.search(text) and not _NEGATION.search(text):
                return True
            continue
        between = after[: request.start()]
        if _CONSENT.search(between):
            continue  # "60 days from getting your consent, not from the request"
        if _NEGATION.search(between) or _NEGATION_BEFORE.search(text[: number.start()][-25:]):
            continue  # "60 days do not start when you ask"
        if len(between) > 80:
            continue  # too far apart to be one phrase
        return True
    return False


# --- 3. "a 504 plan is accommodations only" --------------------------------------------------

_FIVE_O_FOUR = re.compile(r"\b504\b")
_ACCOMMODATIONS = r"(?:accommodations?|adaptaciones|acomodaciones|ajustes)"
_LIMIT = (
    r"(?:only|just|solely|merely|purely|exclusively|solo|sólo|solamente|únicamente|exclusivamente)"
)
_ONLY_ACCOMMODATIONS = _rx(
    rf"\b{_LIMIT}\b(?:\W+\w+){{0,4}}?\W+{_ACCOMMODATIONS}\b",
    rf"\b{_ACCOMMODATIONS}\s+(?:only|solamente|únicamente|nada\s+más|and\s+nothing\s+else)\b",
    rf"\b{_ACCOMMODATIONS}\b[^.;]{{0,30}}\b(?:not|no|nor|ni|never|but\s+not|pero\s+no)\s+"
    r"(?:related\s+)?(?:services|servicios)\b",
)
_NOT_LIMITING = _rx(
    rf"\b(?:more\s+than|not|beyond|besides|no|más\s+que|más\s+allá\s+de|además\s+de|no\s+es)\s+{_LIMIT}\b",
)
_NO_SERVICES = _rx(
    r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't|does\s+not|doesn't|do\s+not|don't|never|"
    r"won't|will\s+not|may\s+not|is\s+not\s+allowed\s+to|are\s+not\s+allowed\s+to|no\s+puede[n]?|"
    r"no|nunca|jamás|sin)\s+"
    r"(?:(?:ever|also|legally|really|usually)\s+)?"
    r"(?:include[sd]?|including|provide[sd]?|offer[s]?|give[s]?|cover[s]?|have|has|add|incluir|"
    r"incluye[n]?|ofrece[n]?|ofrecer|da[n]?|dar|tiene[n]?|cubre[n]?|cubrir|brinda[n]?|brindar)?\s*"
    r"(?:any\s+|ningún\s+|ninguno\s+|ninguna\s+|(?:related\s+)?)?"
    r"(?:services|servicios)\b",
    r"\bno\s+(?:related\s+)?services\b",
)


def _accommodations_only(sentence: str) -> bool:
    text = _unquoted(sentence)
    if not _FIVE_O_FOUR.search(text):
        return False
    for match in _ONLY_ACCOMMODATIONS.finditer(text):
        if not _NOT_LIMITING.search(text[max(0, match.start() - 20) : match.end()]):
            return True
    return bool(_NO_SERVICES.search(text))


# --- 4. "your child qualifies" in the bot's voice -----------------------------------------------

# "my child": the letters speak in the parent's voice, and the same rule holds for them.
_CHILD = (
    r"(?:(?:your|my)\s+(?:child|son|daughter|kid)|the\s+child|he|she|they|"
    r"(?:su|mi)\s+hij(?:o/a|[oa])|el\s+niño|la\s+niña|(?:su|mi)\s+niñ[oa]|el\s+estudiante|"
    r"la\s+estudiante)"
)
_QUALIFIES = (
    r"(?:qualif(?:y|ies|ied)|(?:is|isn't|are|aren't|was|wasn't|were|not)\s+(?:\w+\s+)?eligible|"
    r"califica\w*|calificó|(?:es|son|fue|no\s+es)\s+(?:\w+\s+)?elegibles?)"
)
_VERDICT = re.compile(rf"\b{_CHILD}\b((?:\s+\S+){{0,3}}?)\s+{_QUALIFIES}\b", _F)
_HEDGE = _rx(
    r"\b(?:may|might|could|can|would|will|to|puede|podría|pueda|pudiera|para)\b",
)
_NOT_OUR_VOICE = _rx(
    r"\b(?:if|whether|when|once|unless|until|si|cuando|hasta\s+que|a\s+menos\s+que)\s*$",
    r"\b(?:say|says|said|saying|tell|tells|told|claim\w*|decide\w*|determine\w*|find|finds|"
    r"found|think|thinks|believe\w*|dice\w*|dijo|dijeron|decid\w*|determin\w*|cree\w*|"
    r"piensa\w*|afirma\w*|concluy\w*)\b(?:\s+\S+){0,3}\s*$",
    r"\b(?:that|que)\s*$",
)


def _eligibility(sentence: str) -> bool:
    text = _unquoted(sentence)
    for match in _VERDICT.finditer(text):
        if _HEDGE.search(match.group(1)):
            continue
        before = text[: match.start()][-60:]
        if _NOT_OUR_VOICE.search(before):
            continue
        return True
    return False


# --- the API ----------------------------------------------------------------------------------

_RULES = (
    (WRITTEN_REQUIRED, _written_required),
    (SIXTY_FROM_REQUEST, _sixty_from_request),
    (ACCOMMODATIONS_ONLY, _accommodations_only),
    (ELIGIBILITY, _eligibility),
)


def forbidden_claims(text: str) -> list[str]:
    """Each forbidden claim in `text`, as 'reason: "the sentence"'; empty when the text is fine."""
    found = []
    for sentence in sentences(text):
        for reason, rule in _RULES:
            if rule(sentence):
                found.append(f'{reason}: "{sentence}"')
    return found


def check(items: Iterable[tuple[str, str, str]]) -> list[str]:
    """One line per forbidden claim over (where, language code, text) triples.

    The rules know English and Spanish together (a Spanish page may quote an English term), so
    the language code is not used to pick them.
    """
    return [f"{where}: {claim}" for where, _lang, text in items for claim in forbidden_claims(text)]
