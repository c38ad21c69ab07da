"""Typed crisis detection: the real English and Spanish patterns, and the pattern syntax.

Every language's patterns are checked on every message, so one matcher is built from both
files. A missed signal is worse than a false alarm, but false alarms on everyday school
talk teach parents to ignore the notice: each list below is a decision, not a sample.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.content import load_yaml
from flows.crisis import CrisisMatcher, CrisisPatternError, parse_pattern

CONTENT = Path(__file__).resolve().parent.parent / "content"
CRISIS_FILES = [CONTENT / "en" / "crisis.yaml", CONTENT / "es" / "crisis.yaml"]


def _words(path: Path) -> list[str]:
    words = load_yaml(path)["words"]
    assert isinstance(words, list)
    return words


MATCHER = CrisisMatcher(word for path in CRISIS_FILES for word in _words(path))

SELF_EN = [
    "he said he wants to die",
    "HE WANTS TO DIE",
    "my son talks about suicide",
    "she has been having suicidal thoughts",
    "she said there is no reason to live",
    "he told me he’d be better off dead",
    "he said nobody would miss him",
    "he says no one would care if he died",
    "he wants to end his life",
    "she tried to take her own life",
    "he says he doesn't want to live anymore",
    "she has been self-harming",
    "I think she is into self harm",
    "I found cuts on her arms",
    "he said he would jump off the bridge",
    "he texted kms to his friend",
]
INFLECTED = [
    "he hurts himself when he is upset",
    "she keeps hurting herself",
    "I think she is cutting herself",
    "he tried killing himself last year",
    "she killed herself, his best friend's sister",
    "she cuts herself in the bathroom",
    "mi hijo dice que se quiere matar",
    "se está lastimando cuando se enoja",
    "amenazó con matar a un compañero",
]
HARM_OTHERS = [
    "he wants to hurt other kids",
    "he keeps saying he wants to hurt his little sister",
    "she threatened to kill someone",
    "he said he'd shoot up the school",
    "he said hed shoot up the school",
    "he brought a knife to school",
    "he brought his dad's gun to school",
    "he said he's going to kill me",
    "he tried to stab his sister with scissors",
    "he attacked a classmate at lunch",
    "he threatened the teacher",
    "he beats up other kids",
    "he wrote a kill list",
    "he keeps joking about school shootings",
    "quiere hacerle daño a otros niños",
    "quiere lastimar a su hermana",
    "dijo que va a matar a alguien",
    "llevó una pistola a la escuela",
    "dijo que iba a disparar en la escuela",
    "amenazo con matar a la maestra",
    "quiere hacer daño a compañeros",
    "dice que va a matar al maestro",
    "llevó un arma a la escuela",
]
SELF_ES = [
    "mi hija habla de suicidio",
    "se quiere morir",
    "dice que quiere morirse",
    "mi hijo se hace daño",
    "se hace dano cuando se enoja",
    "mi hija se corta",
    "tiene cortes en las muñecas",
    "intentó quitarse la vida",
    "ya no quiere vivir",
    "dice que estaría mejor muerto",
    "mi hija se autolesiona",
    "se lastimó a propósito",
    "se tiró de la ventana",
    "tiene pensamientos suicidas",
]
POSITIVE = SELF_EN + INFLECTED + HARM_OTHERS + SELF_ES

# Everyday school talk that must not bring up the crisis notice.
NEGATIVE = [
    "he keeps cutting class",
    "he struggles with cutting and writing",
    "the school is cutting his speech minutes",
    "this homework is killing me",
    "he was killing it on the test",
    "she hurt her knee at recess",
    "my son shot a basket",
    "he loves to shoot hoops with other kids",
    "he got a flu shot the other day",
    "he is dying to go to recess",
    "the teacher killed the idea",
    "he hangs out by himself at recess",
    "he can cut paper by himself now",
    "his collar is choking him",
    "he took a stab at the math homework",
    "he bombed his spelling test",
    "he blew up at school today",
    "he has a beat-up backpack",
    "he beat the other kids at chess",
    "I'm going to kill him if he loses another coat",
    "they want to take away his life skills class",
    "there is no reason he can't live independently",
    "he ran to the front of the car line",
    "she had a panic attack and other kids saw",
    "he doesn't want to wake up for school",
    "the school threatened to expel him",
    "matemáticas",
    "se cortó el pelo",
    "la tarea me mata",
    "mi mamá me va a matar",
    "se lastimó la rodilla jugando",
    "lastimó mis sentimientos",
    "se hizo daño en el recreo",
    "me muero de ganas de ir al recreo",
    "la leche le hace daño",
    "la tablet le hace daño a los ojos",
    "le cuesta cortar con tijeras",
    "jugamos al ahorcado para practicar ortografía",
    "arma rompecabezas en la clase de terapia",
    "se tira al piso cuando hace berrinche",
    "no quiere ir a la escuela",
    "tuvo un ataque de pánico en la clase",
    "envenenamiento por plomo",
    "lo mata de risa el payaso",
    "le dispara a la canasta",
    "mata el tiempo jugando videojuegos",
    "se muerde las uñas",
]

# False alarms kept on purpose: the same words are how a parent reports a real danger.
ACCEPTED_FALSE_ALARMS = [
    "he hurts other kids' feelings",  # "hurts other kids" is the signal
    "he doesn't want to live with his father",  # "doesn't want to live"
    "ya se corta las uñas solo",  # "mi hija se corta" is how self-harm is said
    "necesita un casco para no lastimarse",  # "lastimarse"
    "suicide squad is his favorite movie",  # "suicid*"
    "he got beat up at recess",  # a child in danger either way
    "la pandemia acabó con su vida social",  # "acabar con su vida"
]


def test_the_lists_cover_what_the_brief_asks() -> None:
    assert len(POSITIVE) >= 30 and len(NEGATIVE) >= 10
    assert len(SELF_ES) >= 10
    assert len(HARM_OTHERS) >= 8 and len(INFLECTED) >= 6


@pytest.mark.parametrize("path", CRISIS_FILES, ids=lambda p: p.parent.name)
def test_each_file_is_a_list_of_patterns_that_parse(path: Path) -> None:
    words = _words(path)
    assert words and all(isinstance(w, str) and w.strip() for w in words)
    assert len(set(words)) == len(words), "a pattern is listed twice"
    CrisisMatcher(words)


@pytest.mark.parametrize("text", POSITIVE)
def test_a_crisis_signal_is_caught(text: str) -> None:
    assert MATCHER.matches(text)


@pytest.mark.parametrize("text", NEGATIVE)
def test_everyday_school_talk_is_not_a_crisis(text: str) -> None:
    assert not MATCHER.matches(text)


@pytest.mark.parametrize("text", ACCEPTED_FALSE_ALARMS)
def test_known_false_alarms_we_accept(text: str) -> None:
    assert MATCHER.matches(text)


def test_a_signal_in_a_long_message_is_caught() -> None:
    text = "We have an IEP meeting on Monday about reading and math. " * 6
    assert not MATCHER.matches(text)
    assert MATCHER.matches(text + "Last night he said he wants to kill himself.")


def test_matching_is_fast_enough_for_every_message() -> None:
    text = (
        "My son has ADHD and the school keeps calling because he is cutting class and the "
        "other kids tease him; his teacher says he is killing it in math but he hurt his "
        "knee at recess. Se lastimó la rodilla y no quiere ir a la escuela. We have a meeting"
        " next week about his IEP and I want to know if he can get a 504 plan instead, or "
        "extra time on tests, and what to ask for. Thank you so much for any help!! "
    ) * 2
    text = text[:500]
    assert len(text) == 500 and len(MATCHER.patterns) >= 100
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        MATCHER.matches(text)
    assert (time.perf_counter() - start) / runs < 0.002  # measured ~0.15 ms


# --- the syntax --------------------------------------------------------------------------


def matcher(*patterns: str) -> CrisisMatcher:
    return CrisisMatcher(patterns)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "*",
        "kill *",
        "||",
        "kill*|",
        "|kill",
        "kill||hurt",
        "k*ll",
        "ki*",
        "hurt+",
        "+himself",
        "self--harm",
        "... kill",
        "kill ...",
        "kill ... ... me",
        "kill!",
        "hurt (himself)",
    ],
)
def test_a_bad_pattern_is_refused_and_named(bad: str) -> None:
    with pytest.raises(CrisisPatternError) as exc:
        parse_pattern(bad)
    assert repr(bad) in str(exc.value)
    assert exc.value.pattern == bad and exc.value.problem


def test_the_matcher_names_the_bad_pattern_among_good_ones() -> None:
    with pytest.raises(CrisisPatternError, match=r"'kill\*\|\|me'"):
        matcher("suicid*", "kill*||me", "self-harm")
    assert issubclass(CrisisPatternError, ValueError)


def test_a_pattern_is_slots_of_words_and_stems() -> None:
    pattern = parse_pattern("Kill*|hurt  himself+now ... me")
    assert pattern.source == "Kill*|hurt  himself+now ... me"
    assert [(set(s.words), s.stems, s.max_gap) for s in pattern.slots] == [
        ({"hurt"}, ("kill",), 0),
        ({"himself"}, (), 2),
        ({"now"}, (), 0),
        ({"me"}, (), 8),
    ]


def test_order_matters() -> None:
    m = matcher("hurt* himself")
    assert m.matches("he hurt himself")
    assert not m.matches("himself he hurt")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wants to hurt kids", True),
        ("wants to hurt the kids", True),
        ("wants to hurt the other kids", True),
        ("wants to hurt all the other kids", False),
    ],
)
def test_at_most_two_words_between(text: str, expected: bool) -> None:
    assert matcher("hurt* kids").matches(text) is expected


def test_a_plus_means_side_by_side() -> None:
    m = matcher("cutting+herself")
    assert m.matches("she is cutting herself")
    assert not m.matches("she is cutting paper by herself")


def test_dots_allow_up_to_eight_words_between() -> None:
    m = matcher("threat* ... kill*")
    assert m.matches("he threatened that he would kill")
    assert m.matches("threatened " + "x " * 8 + "kill")
    assert not m.matches("threatened " + "x " * 9 + "kill")


def test_a_stem_matches_whole_words_that_start_with_it() -> None:
    m = matcher("cut* wrist*")
    assert m.matches("cutting her wrists")
    assert m.matches("she cuts her wrist")
    assert not m.matches("haircut on her wrist")  # "haircut" does not start with "cut"
    assert not matcher("kms").matches("5 kmss away")


def test_case_does_not_matter() -> None:
    assert matcher("Kill* MYSELF").matches("i want to kILL mYsElF")


def test_accents_do_not_matter_either_way() -> None:
    assert matcher("hacerse daño").matches("quiere hacerse dano")
    assert matcher("hacerse dano").matches("QUIERE HACERSE DAÑO")
    assert matcher("autolesión").matches("autolesion")
    assert matcher("kill myself").matches("ＫＩＬＬ myself")  # full-width letters


def test_apostrophes_do_not_matter() -> None:
    m = matcher("he'd shoot*")
    assert m.matches("he said he'd shoot")
    assert m.matches("he said he’d shoot")
    assert m.matches("he said hed shoot")
    assert m.matches("he said he´d shoot") and m.matches("he said he＇d shoot")


def test_a_hyphen_is_a_plus() -> None:
    m = matcher("self-harm*")
    assert m.matches("self-harm") and m.matches("self harming") and m.matches("Self-Harm")
    assert not m.matches("self and harm")
    assert parse_pattern("auto-lesión|lesiones").slots[1].words == {"lesion", "lesiones"}


def test_punctuation_separates_words() -> None:
    m = matcher("want* die")
    assert m.matches("he wants...to die!!")
    assert not m.matches("")
    assert not m.matches("?!... 😢")
