"""The doctor's chat prompt: instructions plus the visible history only.

techspec: earlier `<reason>` blocks are removed from the doctor's own context; on the last turn the
doctor is told to commit to a final diagnosis.
"""

from __future__ import annotations


SYSTEM_PROMPT = (
    "You are a careful doctor talking with a patient. Find out what illness they have by asking "
    "short, specific questions about their symptoms and history.\n"
    "Every turn: first think privately inside <reason>...</reason> (the patient cannot see it), "
    "then write one or two questions for the patient.\n"
    "When you are confident, end with a line: Final diagnosis: <name of the condition>"
)
LAST_TURN = ("This is your last turn. Give your reasoning in <reason>...</reason>, then write "
             "'Final diagnosis: <name of the condition>'.")


def conversation_messages(opening_statement: str, visible_history: list[tuple[str, str]],
                          last_turn: bool) -> list[dict]:
    """Chat messages for the doctor's next turn, from the patient's opening words: training, the
    warm start and the interactive chat (where a person is the patient) share this one rule.

    `visible_history` holds (doctor visible text, patient reply) pairs: hidden reasoning never
    re-enters the context, and the hidden diagnosis is never in it.
    """
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": opening_statement}]
    for doctor_text, patient_text in visible_history:
        messages.append({"role": "assistant", "content": doctor_text})
        messages.append({"role": "user", "content": patient_text})
    if last_turn:
        messages.append({"role": "system", "content": LAST_TURN})
    return messages
