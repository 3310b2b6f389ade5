"""Synthetic text for the sandbox: answer transcripts, summaries, reviewer comments, names.

Everything is a pure function of a `random.Random` handed in by the caller (seeded from the
world seed and the record), so the same interview always gets the same words. The text is
meant to stress a loader, not to read well: lengths from a sentence to several thousand words,
accented letters, a few emoji, filler words, and the odd Spanish answer.
"""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Amara", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gabriel", "Hana", "Ibrahim", "Jonas",
    "Kateřina", "Liam", "María", "Nikhil", "Olivia", "Paulo", "Quinn", "Renée", "Sofia", "Tomás",
    "Uma", "Victor", "Wen", "Xavier", "Yusuf", "Zoë", "Ana", "Björn", "Camille", "Diego",
)  # fmt: skip
LAST_NAMES = (
    "Abara", "Bergström", "Castillo", "Dubois", "Eriksen", "Fernández", "García", "Haddad",
    "Ibáñez", "Jankowski", "Kowalczyk", "López", "Müller", "Nguyen", "O'Connor", "Patel",
    "Quintero", "Rossi", "Sánchez", "Tanaka", "Umarov", "Varga", "Wójcik", "Xu", "Yilmaz",
    "Zhang", "Nørgaard", "Smith", "Johnson", "Okafor",
)  # fmt: skip
TIMEZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Phoenix", "Europe/London", "America/Toronto", "America/Mexico_City",
)  # fmt: skip

_PLACES = (
    "Montréal", "São Paulo", "Zürich", "Kraków", "Chicago", "Austin", "Málaga", "Reykjavík",
    "Denver", "Düsseldorf", "Toronto", "Querétaro",
)  # fmt: skip
_COMPANIES = (
    "a regional grocery chain", "Café Lumière", "a logistics startup", "the county hospital",
    "a call center", "Señor Taco", "an Amazon warehouse", "a family-run hardware store",
    "a SaaS company", "the public library", "a hotel in the city center", "a moving company",
)  # fmt: skip
_SKILLS = (
    "customer service", "inventory management", "de-escalation", "scheduling", "forklift safety",
    "cold calling", "patient intake", "Excel", "point-of-sale systems", "team leadership",
    "conflict resolution", "time management", "data entry", "food safety",
)  # fmt: skip
_FILLERS = ("um,", "uh,", "you know,", "like,", "so,", "honestly,", "I mean,", "well,")
_EMOJI = ("🙂", "👍", "😅", "🚀", "🙏", "😊", "💪")

_SENTENCES = (
    "I worked at {company} in {place} for about {years} years.",
    "My main responsibility was {skill}, and I also helped with {skill2} when we "
    "were short-staffed.",
    "One time a customer was really upset about a late order, so I listened first "
    "and then offered a refund and a discount on the next visit.",
    "I think the most important thing in this role is being reliable and showing up on time.",
    "Before that I was a student, and I worked part-time at {company} on weekends.",
    "I'm comfortable with {skill}, and I picked up {skill2} pretty quickly on the job.",
    "When there's a conflict on the team I try to talk to the person directly and calmly.",
    "I'm available to work evenings and weekends, and I can start in {weeks} weeks.",
    "My manager at {company} said I was the person people came to when the system went down.",
    "I trained {people} new hires and wrote a little checklist that the team still uses.",
    "I moved to {place} last year, so I'm looking for something stable and long-term.",
    "The hardest part of that job was the pace during the holidays, but I liked the challenge.",
    "I would describe myself as patient, organized, and a bit of a perfectionist.",
    "We used a spreadsheet to track everything, and I cleaned it up so it was easier to read.",
    "I speak English and Spanish, and a little bit of French from school.",
    "Safety was a big deal there, we had a briefing every morning before the shift.",
    "I left because the commute was over an hour each way and the hours kept changing.",
    "If I don't know something I ask, I'd rather ask twice than get it wrong once.",
    "I'm proud that our store had the best customer survey scores in the district "
    "for {months} months.",
    "I usually prioritize by what's urgent for the customer, then what's blocking my teammates.",
    "The résumé says {years} years but honestly it's closer to {years2} if you count "
    "the summer jobs.",
    "We had a naïve process at first, and I suggested a simple queue that cut wait times in half.",
)
_SPANISH = (
    "Trabajé en {company} durante {years} años.",
    "Mi responsabilidad principal era la atención al cliente.",
    "Me considero una persona puntual, organizada y con mucha paciencia.",
    "Puedo empezar en {weeks} semanas y tengo disponibilidad los fines de semana.",
    "Cuando hay un problema con un cliente, primero escucho y luego busco una solución.",
    "Me mudé a {place} el año pasado y busco un trabajo estable.",
)
_SUMMARY_OPENERS = (
    "The candidate communicated clearly and gave concrete examples.",
    "The candidate answered most questions briefly and stayed on topic.",
    "The candidate showed strong customer focus and a calm approach to conflict.",
    "The candidate's answers were enthusiastic but short on specifics.",
    "The candidate described relevant experience in {skill} at {company}.",
)
_SUMMARY_POINTS = (
    "Strengths include {skill} and reliability.",
    "They reported {years} years of relevant experience.",
    "Availability matches the posted schedule, including weekends.",
    "A follow-up on the salary expectations is recommended.",
    "Some answers were cut short; consider a follow-up call.",
    "They gave a specific example of de-escalating an upset customer.",
    "Concern: limited experience with {skill2}.",
)
_COMMENTS = (
    "Strong answers, move forward.",
    "Good communication, a bit short on detail.",
    "Not a fit for nights — ask about weekends.",
    "Great energy! 👍",
    "Résumé and answers don't quite match; check references.",
    "Solid. Schedule an on-site.",
    "Answers felt rehearsed.",
)


class _Slots(dict[str, object]):
    """Template values drawn only when a template asks for them (transcripts are a hot path)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.r = rng.random

    def _pick(self, pool: tuple[str, ...]) -> str:
        return pool[int(self.r() * len(pool))]

    def __missing__(self, key: str) -> object:
        r = self.r
        value: object
        if key == "company":
            value = self._pick(_COMPANIES)
        elif key == "place":
            value = self._pick(_PLACES)
        elif key == "skill":
            value = self._pick(_SKILLS)
        elif key == "skill2":
            first = self["skill"]
            value = first
            while value == first:
                value = self._pick(_SKILLS)
        elif key == "years":
            value = 1 + int(r() * 12)
        elif key == "years2":
            value = int(self["years"]) + 1 + int(r() * 3)  # type: ignore[call-overload]
        elif key == "weeks":
            value = 1 + int(r() * 4)
        elif key == "months":
            value = 2 + int(r() * 10)
        else:  # people
            value = 2 + int(r() * 14)
        self[key] = value
        return value


def _fill(template: str, rng: random.Random) -> str:
    return template.format_map(_Slots(rng)) if "{" in template else template


def transcript(rng: random.Random, language: str = "en") -> str:
    """One answer as a speech-to-text engine would return it (no punctuation guarantees)."""
    if language == "es":
        return " ".join(_fill(rng.choice(_SPANISH), rng) for _ in range(rng.randint(2, 8)))
    roll = rng.random()
    if roll < 0.05:  # a one-liner: "yes", "I don't know", ...
        return rng.choice(("Yes.", "I don't know, sorry.", "Next question please.", "Sure 🙂"))
    # Most answers land at 60-400 words; a few candidates talk for ages (thousands of words),
    # which is what breaks naive column widths and message-size assumptions.
    target = rng.randint(1500, 4000) if roll > 0.97 else rng.randint(60, 400)
    words: list[str] = []
    r = rng.random
    while len(words) < target:
        sentence = _fill(_SENTENCES[int(r() * len(_SENTENCES))], rng)
        if r() < 0.25:
            filler = _FILLERS[int(r() * len(_FILLERS))]
            sentence = f"{filler} {sentence[0].lower()}{sentence[1:]}"
        words.extend(sentence.split())
    text = " ".join(words)
    if rng.random() < 0.08:
        text = f"{text} {rng.choice(_EMOJI)}"
    return text


def summary(rng: random.Random) -> str:
    parts = [_fill(rng.choice(_SUMMARY_OPENERS), rng)]
    parts.extend(_fill(p, rng) for p in rng.sample(_SUMMARY_POINTS, rng.randint(1, 4)))
    return " ".join(parts)


def comment(rng: random.Random) -> str | None:
    return rng.choice(_COMMENTS) if rng.random() < 0.6 else None


def rationale(rng: random.Random, criterion: str, score: int) -> str | None:
    if rng.random() < 0.15:
        return None
    level = ("weak", "limited", "adequate", "good", "excellent")[max(0, min(4, score - 1))]
    return f"{criterion}: {level} evidence in the answers. " + _fill(
        rng.choice(_SUMMARY_POINTS), rng
    )
