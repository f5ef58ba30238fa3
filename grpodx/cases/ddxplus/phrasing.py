"""First-person patient sentences for DDXPlus evidences and their values.

Yes/no questions are turned around grammatically ("Do you have a cough?" -> "I have a cough."), so
any release's wording works; a few questions that grammar cannot turn well have the project's own
sentence below. Categorical and multi-choice values are spoken with their English meanings.
"""

from __future__ import annotations

import re

from grpodx.cases.ddxplus.release import Evidence

# (yes, no) sentences, in the project's words, where turning the question around reads badly.
_OWN_WORDS: dict[str, tuple[str, str]] = {
    "E_146": ("I'm taking one of the new oral anticoagulants (NOACs).", "I'm not on any new oral anticoagulants."),
    "E_53": ("I have pain.", "I don't have any pain."),
    "E_129": ("I have a rash or other skin problems that seem related to why I came in.",
              "I don't have any rash or skin problems."),
    "E_89": ("I feel tired all the time and my sleep doesn't refresh me.",
             "I'm not constantly tired and I sleep well."),
    "E_114": ("I've been more irritable and my mood has been very up and down.",
              "I haven't been irritable and my mood has been stable."),
    "E_82": ("I feel lightheaded and dizzy, like I'm about to faint.", "I don't feel like I'm going to faint."),
    "E_148": ("I feel nauseous, like I'm going to vomit.", "I'm not nauseous."),
    "E_161": ("I've lost my appetite and I get full more quickly than usual.",
              "My appetite is normal and I don't fill up early."),
    "E_88": ("I'm so tired that I can't do my usual activities; I stay in bed all day.",
             "I'm not so tired that I can't do my usual activities."),
    "E_211": ("I've vomited several times or kept retching.", "I haven't been vomiting."),
    "E_112": ("My breathing is noisy, with a wheeze when I breathe in after coughing spells.",
              "My breathing isn't noisy after coughing."),
    "E_176": ("I have or had weakness or paralysis in a limb or in my face.",
              "I've never had weakness or paralysis in my limbs or face."),
    "E_177": ("I have or had numbness, loss of feeling or tingling somewhere on my body.",
              "I've never had numbness or tingling anywhere."),
    "E_174": ("I've been losing weight without trying and I've lost my appetite.",
              "I haven't lost weight or my appetite."),
    "E_78": ("I drink too much alcohol; I think I'm addicted.", "I don't drink alcohol excessively."),
    "E_111": ("I feel like I'm dying; I was afraid I was about to die.", "I haven't felt like I was dying."),
    "E_105": ("I've had a heart attack or I have angina.", "I've never had a heart attack or angina."),
    "E_104": ("I have high blood pressure and I take medication for it.", "I don't have high blood pressure."),
    "E_71": ("I have high cholesterol and take medication for it.", "I don't have high cholesterol."),
    "E_10": ("I take or have recently taken anti-inflammatory drugs (NSAIDs).",
             "I haven't been taking anti-inflammatory drugs."),
    "E_124": ("I have asthma; I've used a bronchodilator inhaler before.",
              "I don't have asthma and have never needed a bronchodilator."),
    "E_1": ("I'm on, or just finished, an oral antibiotic for an ear infection.",
            "I haven't been taking antibiotics for an ear infection."),
    "E_99": ("I've had migraines, or someone in my family has.",
             "Neither I nor anyone in my family has migraines."),
    "E_217": ("My symptoms are worse lying down and better when I sit up.",
              "Lying down doesn't make my symptoms worse."),
    "E_219": ("My symptoms are worse at night.", "My symptoms aren't worse at night."),
    "E_92": ("My cheeks suddenly turned red.", "My cheeks haven't turned red."),
    "E_208": ("I'm underweight; my BMI is below 18.5.", "I'm not underweight."),
    "E_190": ("I'm producing more saliva than usual.", "I'm not producing more saliva than usual."),
    "E_23": ("I sometimes stop breathing for a while when I'm asleep.",
             "I don't stop breathing in my sleep, as far as I know."),
    "E_180": ("I can't control where my eyes are pointing.", "I can control my eye movements normally."),
    "E_149": ("I take a calcium channel blocker.", "I don't take a calcium channel blocker."),
    "E_3": ("I've had pericarditis before.", "I've never had pericarditis."),
    "E_207": ("I live in a big city.", "I don't live in a big city."),
    "E_21": ("My lung has collapsed on its own before.", "I've never had a collapsed lung."),
    "E_52": ("I'm seeing double.", "I don't have double vision."),
    "E_66": ("I'm really short of breath; it's hard to breathe.", "I'm not short of breath."),
    "E_210": ("I've thrown up blood or something like coffee grounds.", "I haven't vomited any blood."),
    "E_140": ("My stools have been black, like coal.", "My stools haven't been black."),
    "E_163": ("I've had some vaginal discharge.", "I haven't had any vaginal discharge."),
    "E_178": ("I've noticed unusual bleeding or bruising.", "I haven't noticed any unusual bleeding or bruising."),
    "E_175": ("I've felt generally unwell: new tiredness, vague discomfort and aching muscles.",
              "I haven't felt generally unwell apart from this."),
    "E_205": ("I suddenly can't open my mouth properly, and my jaw hurts when I try.",
              "I can open my mouth normally."),
    "E_147": ("I was treated in hospital recently for agitation or intoxication and got an injection.",
              "I haven't been treated in hospital for agitation or intoxication recently."),
    "E_159": ("I lost consciousness.", "I haven't lost consciousness."),
    "E_166": ("I vomited after coughing.", "I haven't vomited after coughing."),
    "E_187": ("I ate dark-fleshed fish or Swiss cheese before the reaction.",
              "I didn't eat dark-fleshed fish or Swiss cheese before the reaction."),
    "E_202": ("My coughing fits end with a whooping sound.", "My cough doesn't make a whooping sound."),
    "E_155": ("My heart races, skips beats or pounds.", "I haven't had palpitations."),
    "E_75": ("I feel like I'm choking or suffocating.", "I don't feel like I'm choking or suffocating."),
    "E_13": ("My symptoms have worsened over the last 2 weeks, and less effort brings them on now.",
             "My symptoms haven't been getting worse over the last 2 weeks."),
    "E_102": ("I came in because I have high blood pressure.", "I'm not here for high blood pressure."),
    "E_128": ("I've had a very short spell of suffocating where I couldn't breathe or speak.",
              "I've never had a spell where I suddenly couldn't breathe or speak."),
    "E_150": ("I've been able to pass stools or gas.", "I haven't been able to pass stools or gas."),
    "E_221": ("It gets worse when I cough, lift something heavy or strain on the toilet.",
              "Coughing, lifting or straining doesn't make it worse."),
    "E_165": ("Someone in my family has had a collapsed lung (pneumothorax).",
              "Nobody in my family has had a collapsed lung."),
    "E_25": ("Someone in my family has been diagnosed with cluster headaches.",
             "Nobody in my family has cluster headaches."),
    "E_28": ("Someone in my family has been diagnosed with myasthenia gravis.",
             "Nobody in my family has myasthenia gravis."),
    "E_223": ("Someone in my family has been diagnosed with pancreatic cancer.",
              "Nobody in my family has had pancreatic cancer."),
    "E_224": ("Someone in my family has had lung cancer.", "Nobody in my family has had lung cancer."),
    "E_26": ("Someone in my family has been diagnosed with anemia.", "Nobody in my family has anemia."),
    "E_29": ("Someone in my immediate family has a psychiatric illness.",
             "Nobody in my immediate family has a psychiatric illness."),
    "E_225": ("Close family members of mine had heart or blood vessel disease before 50.",
              "None of my close family had heart disease before 50."),
    "E_86": ("Close family members of mine have allergies, hay fever or eczema.",
             "Nobody in my close family has allergies, hay fever or eczema."),
    "E_87": ("Some of my family members have asthma.", "Nobody in my family has asthma."),
    "E_142": ("My mother has asthma.", "My mother doesn't have asthma."),
    "E_4": ("I or someone in my family has had croup.", "Neither I nor my family have had croup."),
    "E_160": ("I was born prematurely or there were complications at my birth.",
              "I wasn't born early and there were no complications at my birth."),
    "E_73": ("I've been in contact with someone infected with Ebola in the last month.",
             "I haven't been in contact with anyone who had Ebola."),
    "E_41": ("I've been in contact with someone with similar symptoms in the past 2 weeks.",
             "I haven't been around anyone with similar symptoms."),
    "E_40": ("I've been in contact with someone who had pertussis.",
             "I haven't been in contact with anyone who had pertussis."),
    "E_17": ("I am of Asian descent.", "I'm not of Asian descent."),
    "E_141": ("I had my first period before I was 12.", "My first period came at 12 or later."),
    "E_11": ("I breastfed one of my children for more than 9 months.",
             "I haven't breastfed a child for more than 9 months."),
    "E_209": ("My vaccinations are up to date.", "My vaccinations are not up to date."),
    "E_167": ("I am or might be pregnant.", "I'm not pregnant."),
    "E_90": ("My muscle weakness gets worse when I'm tired or stressed.",
             "Tiredness or stress doesn't make any weakness worse."),
    "E_169": ("My nose or the back of my throat is itchy.", "My nose and throat aren't itchy."),
    "E_154": ("My skin is much paler than usual.", "My skin isn't paler than usual."),
}

_AUXILIARIES = [  # (question opening, yes opening, no opening)
    ("do you", "I", "I don't"),
    ("have you ever", "I have", "I have never"),
    ("have you", "I have", "I haven't"),
    ("did you", "I did", "I didn't"),
    ("are you", "I am", "I'm not"),
    ("were you", "I was", "I wasn't"),
]
_SUBJECT_VERBS = {"are", "were", "have", "had", "do", "did", "feel", "believe", "get", "take", "think",
                  "suffer", "live", "breathe", "were", "exhale", "inhale", "eat", "lean", "can", "could"}


def _own_person(text: str) -> str:
    """Swap the doctor's 'you/your' for the patient's 'I/my/me'."""
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        bare = word.lower().strip(",;:")
        tail = word[len(word.rstrip(",;:")):]
        after = words[i + 1].lower().strip(",;:()") if i + 1 < len(words) else ""
        if bare == "your":
            out.append("my" + tail)
        elif bare == "yourself":
            out.append("myself" + tail)
        elif bare in ("you're", "you’re"):
            out.append("I'm" + tail)
        elif bare == "you":
            out.append(("I" if after in _SUBJECT_VERBS or after.endswith("ed") else "me") + tail)
        elif bare == "were" and out and out[-1] == "I":
            out.append("was" + tail)
        elif bare == "are" and out and out[-1] == "I":
            out.append("am" + tail)
        else:
            out.append(word)
    return " ".join(out)


def _plain(question: str) -> str:
    """The question without its final '?' and without explanatory parentheses (acronyms kept)."""
    text = re.sub(r"\s*\((?![A-Z]{2,}s?\))[^)]*\)", "", question.strip())
    text = text.replace("((", "(")
    return re.sub(r"\s+", " ", text).rstrip(" ?:.").strip()


def yes_no_sentences(evidence: Evidence) -> tuple[str, str]:
    """(what the patient says when it is present, when it is absent), without 'Yes,'/'No,'."""
    if evidence.code in _OWN_WORDS:
        return _OWN_WORDS[evidence.code]
    text = _plain(evidence.question)
    lowered = text.lower()
    for opening, yes, no in _AUXILIARIES:
        if lowered.startswith(opening + " "):
            rest = _own_person(text[len(opening) + 1:])
            return f"{yes} {rest}.", f"{no} {rest}."
    if lowered.startswith("is my ") or lowered.startswith("is your "):
        rest = _own_person(text[3:])
        return f"{rest[0].upper()}{rest[1:]} is so.", f"{rest[0].upper()}{rest[1:]} isn't so."
    return f"Yes to that: {_own_person(text)}.", f"No to that: {_own_person(text)}."


def place(label: str) -> str:
    """'tonsil(R)' -> 'right tonsil'; DDXPlus marks the side in a suffix."""
    label = {"palace": "palate"}.get(label, label).replace("ischio jambier", "hamstring")
    match = re.fullmatch(r"(.*?)\s*\((R|L)\)", label)
    if match:
        return f"{'right' if match.group(2) == 'R' else 'left'} {match.group(1)}"
    return label


def spoken_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# Categorical/multi-choice evidences: (sentence with the recorded values, sentence when only the
# release's default is recorded: "nowhere", "NA", "N").
_VALUE_WORDS: dict[str, tuple[str, str]] = {
    "E_55": ("I feel the pain here: {}.", "I don't have pain anywhere."),
    "E_57": ("The pain spreads to: {}.", "The pain doesn't spread anywhere else."),
    "E_133": ("The affected skin is here: {}.", "I don't have a rash anywhere."),
    "E_152": ("The swelling is here: {}.", "I don't have swelling anywhere."),
    "E_54": ("I'd describe the pain this way: {}.", "I can't really describe the pain."),
    "E_130": ("The rash is {}.", "I can't tell the rash's colour."),
    "E_135": ("The lesions are larger than 1 cm.", "The lesions are smaller than 1 cm."),
    "E_131": ("My lesions peel off.", "My lesions don't peel off."),
    "E_204": ("I travelled to {} in the last 4 weeks.", "I haven't travelled out of the country in the last 4 weeks."),
}
_SCALES = {  # 0-10 scales: every value is spoken, 0 included
    "E_56": "The pain is {} out of 10 in intensity.",
    "E_59": "On a scale where 0 is very gradually and 10 is all of a sudden, the pain came on at {}.",
    "E_58": "On a scale where 0 is vague and 10 is one exact spot, I can locate the pain at {}.",
    "E_134": "The rash hurts {} out of 10.",
    "E_132": "The rash is swollen {} out of 10.",
    "E_136": "The itching is {} out of 10.",
}


def _spoken_value(meaning: str) -> str:
    """'tonsil(R)' -> 'right tonsil', 'a knife stroke' -> 'like a knife stroke'."""
    said = place(meaning)
    return f"like {said}" if said.startswith("a ") else said


def value_sentence(evidence: Evidence, values: tuple[str, ...]) -> str:
    """What the patient says for a C/M evidence with the recorded value(s)."""
    code, default = evidence.code, evidence.default_value
    if code in _SCALES:
        return _SCALES[code].format(values[0] if values else default)
    said = [_spoken_value(evidence.values.get(v, v)) for v in values if v != default]
    if code in _VALUE_WORDS:
        some, none = _VALUE_WORDS[code]
        return some.format(spoken_list(said)) if said else none
    return f"{_plain(evidence.question)}: {spoken_list(said) if said else evidence.values.get(default, default)}."
