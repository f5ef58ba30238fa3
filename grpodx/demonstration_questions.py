"""Plain clinician's questions for the expert demonstrations, several per finding.

Why: a warm start that imitates one phrasing per finding (the DDXPlus release's) teaches the doctor
one way to ask; real patients and the LLM patient hear many. The DDXPlus questions below are the
project's own words, written for this file (never drawn from tests/data/ddxplus_paraphrases_holdout*
.jsonl, which measure the patient). Knowledge-base findings get questions from frames over their
label. `QuestionBank.variants(code)` lists every wording; the demonstrations choose
one with a seeded RNG and keep it only if the patient's matcher maps it to that finding.
"""

from __future__ import annotations

# One line per yes/no DDXPlus evidence: plain questions a clinician might ask.
DDXPLUS_QUESTIONS: dict[str, tuple[str, ...]] = {
    "E_91": ("Have you had a fever?", "Have you been running a temperature?", "Any fever or feeling feverish?"),
    "E_53": ("Are you in any pain?", "Does anything hurt at the moment?", "Have you had any pain?"),
    "E_159": ("Have you passed out at all?", "Did you lose consciousness?", "Have you fainted or blacked out?"),
    "E_129": ("Have you noticed a rash?", "Any rash or spots on your skin?", "Any new skin changes or redness?"),
    "E_154": ("Has your skin looked paler than usual?", "Have people said you look pale?", "Are you paler than normal?"),
    "E_155": ("Any palpitations?", "Does your heart race or pound?", "Have you felt your heart fluttering?"),
    "E_210": ("Have you vomited blood?", "Any blood when you throw up?", "Has your vomit looked like coffee grounds?"),
    "E_140": ("Have your stools been black?", "Any black, tarry stools?", "Have you passed dark, tar-like stools?"),
    "E_51": ("Have you had diarrhoea?", "Any loose or watery stools?", "Are you going to the toilet more, with loose stools?"),
    "E_75": ("Have you felt like you were choking?", "Any feeling of suffocating?", "Do you feel smothered or choked?"),
    "E_89": ("Do you feel tired all the time?", "Is your sleep unrefreshing?", "Have you been constantly fatigued?"),
    "E_114": ("Have you been more irritable lately?", "Any mood swings recently?", "Has your mood been up and down?"),
    "E_82": ("Have you been feeling faint?", "Do you feel like you could pass out?", "Any feeling of being about to faint?"),
    "E_148": ("Do you feel nauseous?", "Have you felt sick to your stomach?", "Any nausea?"),
    "E_94": ("Have you had chills?", "Any shivering or shakes?", "Have you been shivery?"),
    "E_220": ("Does it hurt when you breathe in deeply?", "Is there pain on a deep breath?", "Does breathing in make the pain worse?"),
    "E_161": ("Have you lost your appetite?", "Do you feel full after a few mouthfuls?", "Are you getting full quickly when you eat?"),
    "E_179": ("Have you seen blood in your stool?", "Any bright red blood from your back passage?", "Any blood when you open your bowels?"),
    "E_162": ("Have you lost weight without trying?", "Any unintended weight loss?", "Have you been losing weight?"),
    "E_173": ("Do you get heartburn?", "Any burning rising from your stomach into your throat?", "Do you get acid reflux?"),
    "E_33": ("Does the pain ease when you lean forward?", "Is it better sitting forward?", "Does leaning forward help the pain?"),
    "E_218": ("Do your symptoms get worse with exertion?", "Are things worse when you are active and better at rest?", "Does exercise bring it on?"),
    "E_93": ("Do your feet tingle or go numb?", "Do your feet feel numb?", "Any pins and needles in your feet?"),
    "E_66": ("Are you short of breath?", "Have you had trouble breathing?", "Do you feel breathless?"),
    "E_163": ("Have you had any vaginal discharge?", "Any unusual vaginal discharge lately?", "Have you noticed vaginal discharge?"),
    "E_30": ("Is your tummy bloated?", "Does your abdomen look distended?", "Have you felt bloated?"),
    "E_127": ("Are your eyes watering a lot?", "Do your eyes tear up more than usual?", "Any watery eyes?"),
    "E_181": ("Do you have a runny or blocked nose?", "Is your nose stuffy?", "Is your nose congested?"),
    "E_88": ("Are you too tired to do your usual activities?", "Has tiredness kept you in bed?", "Are you too exhausted to get through the day?"),
    "E_43": ("Have you had a seizure?", "Any fits or convulsions?", "Have you had any seizures?"),
    "E_156": ("Has one side of your face gone weak?", "Any drooping on one side of your face?", "Have you noticed facial droop?"),
    "E_144": ("Do your muscles ache all over?", "Any widespread muscle pain?", "Have you had body aches?"),
    "E_216": ("Does the pain get worse when you move?", "Does moving make it hurt more?", "Is the pain worse with movement?"),
    "E_201": ("Do you have a cough?", "Have you been coughing?", "Are you coughing at all?"),
    "E_217": ("Is it worse when you lie down?", "Do you feel better sitting up than lying flat?", "Does lying flat make things worse?"),
    "E_215": ("Are your symptoms worse after eating?", "Does eating make it worse?", "Is it worse after meals?"),
    "E_64": ("Do you get out of breath with little effort?", "Are you winded after a few steps?", "Does minimal effort leave you breathless?"),
    "E_96": ("Have you gained weight recently?", "Have you put on weight?", "Any recent weight gain?"),
    "E_16": ("Do you feel anxious?", "Have you been feeling nervous or anxious?", "Are you anxious?"),
    "E_50": ("Have you been sweating a lot?", "Any heavy sweating?", "Have you been sweaty?"),
    "E_97": ("Do you have a sore throat?", "Is your throat sore?", "Any throat pain?"),
    "E_9": ("Are your glands swollen?", "Any swollen lymph nodes?", "Have you noticed swollen glands in your neck?"),
    "E_76": ("Do you feel a little dizzy?", "Have you been slightly lightheaded?", "Any mild dizziness?"),
    "E_102": ("Are you here because of high blood pressure?", "Did you come in about your blood pressure?", "Is high blood pressure the reason for your visit?"),
    "E_65": ("Do you have trouble swallowing?", "Does food get stuck when you swallow?", "Is it hard to swallow?"),
    "E_74": ("Are your eyes red?", "Any redness in your eyes?", "Have your eyes been bloodshot?"),
    "E_205": ("Is it hard to open your mouth?", "Does your jaw hurt when you open your mouth?", "Has your jaw locked?"),
    "E_63": ("Do you have trouble speaking?", "Is your speech slurred?", "Are you having difficulty getting words out?"),
    "E_128": ("Have you had a brief spell where you couldn't breathe or speak?", "Did your throat suddenly close for a moment?", "Any short episode of not being able to breathe?"),
    "E_190": ("Are you drooling?", "Have you had more saliva than usual?", "Are you producing a lot of saliva?"),
    "E_39": ("Have you been confused?", "Have you felt disoriented lately?", "Any confusion?"),
    "E_212": ("Is your voice hoarse?", "Has your voice changed?", "Any hoarseness?"),
    "E_206": ("Do you have mouth ulcers?", "Any sores in your mouth?", "Have you had painful ulcers in your mouth?"),
    "E_52": ("Are you seeing double?", "Any double vision?", "Do you see two of things?"),
    "E_203": ("Do you have coughing fits?", "Any bouts of violent coughing?", "Do you get intense coughing spells?"),
    "E_38": ("Any pain or weakness in your jaw?", "Does your jaw hurt?", "Does your jaw get tired when you chew?"),
    "E_172": ("Are your eyelids drooping?", "Is it hard to open your eyelids?", "Any droopy eyelid?"),
    "E_84": ("Do your arms or legs feel weak?", "Any weakness in both legs?", "Do your limbs feel weak?"),
    "E_90": ("Does the weakness get worse when you are tired?", "Are you weaker as the day goes on?", "Does stress make the weakness worse?"),
    "E_211": ("Have you been vomiting lately?", "Have you thrown up?", "Any vomiting?"),
    "E_166": ("Do you vomit after coughing?", "Does coughing make you throw up?", "Have you coughed until you were sick?"),
    "E_112": ("Is your breathing noisy after coughing fits?", "Do you make a whooping noise after coughing?", "Do you wheeze when breathing in after coughing?"),
    "E_178": ("Any unusual bleeding or bruising?", "Do you bruise easily?", "Have you noticed unusual bruising?"),
    "E_151": ("Have you had any swelling?", "Has any part of you swollen up?", "Any puffiness or swelling?"),
    "E_45": ("Have you coughed up blood?", "Any blood in your phlegm?", "Is there any blood when you cough it up?"),
    "E_194": ("Is there a high-pitched noise when you breathe in?", "Any harsh sound when you inhale?", "Do you make a high-pitched sound breathing in?"),
    "E_83": ("Any weakness in your face or eye muscles?", "Do your facial muscles feel weak?", "Have your eye muscles felt weak?"),
    "E_157": ("Any tingling around your mouth?", "Do your lips feel numb?", "Any numbness in your hands, feet and lips?"),
    "E_176": ("Have you had weakness or paralysis of an arm, leg or your face?", "Any paralysis?", "Have you lost strength in an arm or leg?"),
    "E_42": ("Have you been exposed to something you are allergic to?", "Did you eat something you're allergic to?", "Any contact with an allergen?"),
    "E_214": ("Are you wheezing?", "Is there a whistle when you breathe out?", "Any wheeze?"),
    "E_150": ("Can you still pass gas or stool?", "Are you passing wind?", "Have you been able to open your bowels?"),
    "E_32": ("Has your appetite gone down?", "Are you eating less than usual?", "Any decrease in appetite?"),
    "E_221": ("Is it worse when you cough or strain?", "Does lifting or straining make it worse?", "Does bearing down make it worse?"),
    "E_202": ("Do you have a whooping cough?", "Does your cough whoop?", "Is there a whoop when you cough?"),
    "E_219": ("Are your symptoms worse at nighttime?", "Is it worse at nighttime?", "Do things get worse at night?"),
    "E_196": ("Have you had surgery in the last month?", "Any recent operation?", "Were you operated on recently?"),
    "E_170": ("Are your eyes itchy?", "Do your eyes itch?", "Any eye itching?"),
    "E_77": ("Are you coughing up phlegm?", "Is your cough productive?", "Any coloured phlegm?"),
    "E_13": ("Have your symptoms got worse over the last two weeks?", "Does less effort bring on your symptoms now?", "Is it getting progressively worse?"),
    "E_14": ("Do you get chest pain even at rest?", "Does the chest pain come on while resting?", "Any chest pain when sitting still?"),
    "E_169": ("Is your nose or throat itchy?", "Any itchy nose?", "Any tickle at the back of your throat?"),
    "E_177": ("Any numbness or tingling anywhere?", "Have you had pins and needles?", "Any loss of feeling anywhere?"),
    "E_175": ("Do you feel generally unwell?", "Any general malaise?", "Have you felt vaguely unwell?"),
    "E_174": ("Have you lost weight or appetite?", "Has your appetite or weight dropped?", "Any loss of weight or appetite?"),
    "E_145": ("Are your periods heavy?", "Are your periods very long?", "Any heavy menstrual bleeding?"),
    "E_92": ("Did your cheeks go red?", "Any facial flushing?", "Have your cheeks been flushed?"),
    "E_192": ("Is your neck stiff?", "Can you turn your head?", "Are your neck muscles in spasm?"),
    "E_188": ("Are your stools pale and your urine dark?", "Any dark urine?", "Have your stools been pale?"),
    "E_164": ("Does your heart beat irregularly?", "Is your pulse irregular?", "Any irregular heartbeat?"),
    "E_193": ("Do you get muscle spasms?", "Any twitching?", "Do your muscles contract on their own?"),
    "E_168": ("Is your tongue sticking out?", "Can you keep your tongue in your mouth?", "Does your tongue push out?"),
    "E_180": ("Are your eyes moving on their own?", "Can you control your eye movements?", "Do your eyes get stuck looking one way?"),
    "E_67": ("Do you wake up at night short of breath?", "Do you wake up gasping?", "Any choking that wakes you at night?"),
    "E_78": ("Do you drink a lot of alcohol?", "How much alcohol do you drink?", "Do you drink heavily?"),
    "E_146": ("Are you on a blood thinner?", "Do you take anticoagulants?", "Are you on a new oral anticoagulant?"),
    "E_171": ("Do you feel detached from your body?", "Do things around you feel unreal?", "Do you feel detached from your surroundings?"),
    "E_111": ("Do you feel like you are dying?", "Are you afraid you might die?", "Any sense of doom?"),
    "E_182": ("Is your nasal discharge green or yellow?", "Any coloured mucus from your nose?", "Are you blowing out green snot?"),
    "E_103": ("Have you lost your sense of smell?", "Can you smell things?", "Any loss of smell?"),
    "E_23": ("Do you stop breathing in your sleep?", "Has anyone noticed pauses in your breathing at night?", "Any breathing pauses while asleep?"),
    "E_105": ("Have you had a heart attack or angina?", "Any history of heart attack?", "Have you had angina before?"),
    "E_108": ("Is your circulation poor?", "Any circulation problems?", "Do you have peripheral vascular disease?"),
    "E_104": ("Do you have high blood pressure?", "Are you on blood pressure tablets?", "Any hypertension?"),
    "E_79": ("Do you smoke?", "Are you smoking at the moment?", "Do you smoke cigarettes?"),
    "E_71": ("Is your cholesterol high?", "Are you on a statin?", "Any problem with cholesterol?"),
    "E_41": ("Has anyone around you had similar symptoms?", "Any sick contacts recently?", "Have you been around anyone ill?"),
    "E_100": ("Do you take any hormones?", "Are you on hormone therapy or the pill?", "Any HRT?"),
    "E_69": ("Do you have diabetes?", "Are you diabetic?", "Any high blood sugar?"),
    "E_167": ("Could you be pregnant?", "Are you pregnant?", "Is there any chance of pregnancy?"),
    "E_115": ("Have you had unprotected sex with several partners?", "Any unprotected sex recently?", "Have you had multiple sexual partners?"),
    "E_70": ("Are you overweight?", "Would you say you are carrying extra weight?", "Has your weight been a problem?"),
    "E_10": ("Do you take anti-inflammatories like ibuprofen?", "Have you been taking NSAIDs?", "Any ibuprofen lately?"),
    "E_165": ("Has a relative of yours had a collapsed lung?", "Any pneumothorax in the family?", "Do relatives have a history of collapsed lung?"),
    "E_8": ("Are you on dialysis?", "Do you have kidney dialysis?", "Do you go for dialysis?"),
    "E_25": ("Does anyone in your family get cluster headaches?", "Any cluster headaches in the family?", "Do relatives have cluster headaches?"),
    "E_184": ("Do you take medicine that widens your blood vessels?", "Are you on nitrates?", "Do you use nitroglycerin?"),
    "E_185": ("Have you had a head injury?", "Did you hit your head?", "Any head trauma?"),
    "E_99": ("Do you get migraines?", "Any migraines in you or your family?", "Have you had migraine headaches?"),
    "E_107": ("Have you had a stroke?", "Any previous stroke?", "Have you ever had a stroke before?"),
    "E_226": ("Are you prone to allergies?", "Do you have allergies?", "Do you get hay fever or allergies?"),
    "E_62": ("Do you take stimulant drugs?", "Do you use cocaine or amphetamines?", "Any stimulants?"),
    "E_49": ("Do you work in or attend a daycare?", "Are you around young children at a nursery?", "Do you go to daycare?"),
    "E_95": ("Do you have Parkinson's disease?", "Any Parkinson's?", "Have you been told you have Parkinson's?"),
    "E_37": ("Do you have cancer that has spread?", "Any metastatic cancer?", "Has a cancer spread to other organs?"),
    "E_153": ("Are you treated for osteoporosis?", "Do you have thin bones?", "Any osteoporosis?"),
    "E_124": ("Do you have asthma?", "Have you ever used an inhaler?", "Any asthma or bronchodilator use?"),
    "E_98": ("Do you have a hiatus hernia?", "Any hiatal hernia?", "Have you been told you have a hiatus hernia?"),
    "E_116": ("Have you had a cold recently?", "Any cold in the last two weeks?", "Did you have a cold lately?"),
    "E_48": ("Do you live with four or more people?", "How many people live with you?", "Is your home crowded?"),
    "E_2": ("Have you been diagnosed with HIV?", "Are you HIV positive?", "Any HIV infection?"),
    "E_227": ("Is your immune system weakened?", "Are you immunosuppressed?", "Is your immunity low?"),
    "E_61": ("Do you inject drugs?", "Any intravenous drug use?", "Do you use IV drugs?"),
    "E_47": ("Have you been told you have Crohn's or colitis?", "Any inflammatory bowel disease?", "Have you got Crohn's?"),
    "E_27": ("Have you ever had a sexually transmitted infection?", "Any STI in the past?", "Have you had an STD?"),
    "E_143": ("Do you exercise regularly?", "Do you work out most days?", "Are you physically active?"),
    "E_191": ("Are you an ex-smoker?", "Did you use to smoke?", "Have you quit smoking?"),
    "E_208": ("Are you below a healthy weight?", "Is your BMI low?", "Would you say you are too thin?"),
    "E_126": ("Do you have cirrhosis of the liver?", "Any liver cirrhosis?", "Do you have scarring of the liver?"),
    "E_189": ("Have you had sex with an HIV-positive partner?", "Is a partner of yours HIV positive?", "Any sex with someone who has HIV?"),
    "E_7": ("Is your diet poor?", "Do you eat an unhealthy diet?", "Do you eat well?"),
    "E_24": ("Have you been told you have anaemia?", "Any anaemia?", "Have you had a low blood count?"),
    "E_26": ("Does anyone in your family have anaemia?", "Any anaemia in the family?", "Do relatives have anaemia?"),
    "E_113": ("Do you have chronic kidney failure?", "Any chronic kidney disease?", "Are your kidneys failing?"),
    "E_160": ("Were you born prematurely?", "Any complications at birth?", "Were you born early?"),
    "E_28": ("Is there myasthenia gravis among your relatives?", "Any myasthenia gravis in the family?", "Do relatives have myasthenia gravis?"),
    "E_20": ("Do you have rheumatoid arthritis?", "Any rheumatoid arthritis?", "Have you been told you have rheumatoid arthritis?"),
    "E_80": ("Have you been diagnosed with depression?", "Any history of depression?", "Have you suffered from depression?"),
    "E_40": ("Have you been around someone with whooping cough?", "Any contact with pertussis?", "Were you exposed to whooping cough?"),
    "E_0": ("Have you had a viral infection recently?", "Any recent virus?", "Did you have a viral illness lately?"),
    "E_1": ("Are you taking antibiotics for your ear?", "Have you recently taken oral antibiotics for your ear?", "Any antibiotics for an ear infection?"),
    "E_34": ("Do you have an active cancer?", "Are you being treated for cancer?", "Any tumour or chemotherapy?"),
    "E_209": ("Are your vaccinations up to date?", "Have you had all your vaccines?", "Are your immunisations current?"),
    "E_139": ("Do you have a heart defect?", "Any congenital heart defect?", "Were you born with a hole in the heart?"),
    "E_19": ("Is your thyroid overactive?", "Any hyperthyroidism?", "Have you been diagnosed with hyperthyroidism?"),
    "E_31": ("Do you have severe COPD?", "Any advanced COPD?", "Do you have severe emphysema?"),
    "E_22": ("Do you have a heart valve problem?", "Any heart valve disease?", "Have you been told you have a heart murmur?"),
    "E_60": ("Do you drink energy drinks?", "Any energy drinks regularly?", "Do you have Red Bull or similar drinks?"),
    "E_35": ("Do you drink coffee or tea regularly?", "How much coffee do you drink?", "Do you have a lot of caffeine?"),
    "E_213": ("Have you taken decongestants recently?", "Any cold medicines with pseudoephedrine?", "Have you used any stimulant cold remedies?"),
    "E_12": ("Are you severely allergic to a food?", "Are you allergic to any food?", "Any serious food allergy?"),
    "E_44": ("Do you take steroids?", "Are you on prednisone?", "Any corticosteroids?"),
    "E_4": ("Have you or your family had croup?", "Any croup in the family?", "Did you have croup as a child?"),
    "E_81": ("Do you suffer from chronic anxiety?", "Any long-standing anxiety disorder?", "Have you had anxiety for a long time?"),
    "E_109": ("Have you had a deep vein thrombosis?", "Any DVT before?", "Have you had a blood clot in your leg?"),
    "E_110": ("Have you been bedridden for three days or more recently?", "Were you unable to get up for several days?", "Have you been immobile for days lately?"),
    "E_17": ("Are you of Asian descent?", "Is your background Asian?", "What is your ethnic background?"),
    "E_18": ("Do you have cystic fibrosis?", "Any cystic fibrosis?", "Have you been diagnosed with cystic fibrosis?"),
    "E_118": ("Did you ever have pneumonia?", "Any previous pneumonia?", "Have you ever had pneumonia?"),
    "E_123": ("Do you have COPD?", "Any emphysema or chronic bronchitis?", "Do you have chronic obstructive pulmonary disease?"),
    "E_207": ("Do you live in a big city?", "Is your home in a city?", "Do you live in an urban area?"),
    "E_86": ("Does anyone in your family have allergies?", "Any hay fever or eczema in the family?", "Do relatives have eczema?"),
    "E_87": ("Does anyone in your family have asthma?", "Any asthma in the family?", "Do relatives have asthma?"),
    "E_141": ("Did your periods start before age 12?", "How old were you at your first period?", "Was your first period before 12?"),
    "E_11": ("Did you breastfeed a child for more than nine months?", "Have you breastfed for a long time?", "Did you nurse your children over nine months?"),
    "E_186": ("Do you have sleep apnoea?", "Have you been diagnosed with obstructive sleep apnea?", "Do you use a CPAP machine?"),
    "E_106": ("Do you have heart failure?", "Any heart failure?", "Have you been told your heart is weak?"),
    "E_158": ("Do you have a hormone disorder?", "Any endocrine disease?", "Have you had a hormone problem?"),
    "E_187": ("Did you eat tuna or Swiss cheese before this started?", "Any dark fish before the reaction?", "Did you have Swiss cheese beforehand?"),
    "E_6": ("Do you have chronic pancreatitis?", "Any pancreatitis before?", "Has your pancreas been inflamed for a long time?"),
    "E_125": ("Have you been diagnosed with reflux?", "Do you have GERD?", "Any gastroesophageal reflux disease?"),
    "E_21": ("Have you had a collapsed lung before?", "Any previous pneumothorax?", "Has your lung ever collapsed?"),
    "E_222": ("Are you around second-hand smoke every day?", "Do people smoke around you?", "Any passive smoking?"),
    "E_15": ("Have you taken antipsychotics this week?", "Are you on antipsychotic medication?", "Any antipsychotic recently?"),
    "E_147": ("Were you treated in hospital for agitation with an injection?", "Did you get a sedative injection in hospital recently?", "Were you in hospital for intoxication recently?"),
    "E_137": ("Have you had lymph nodes removed?", "Any lymph node surgery?", "Did you have surgery to remove lymph nodes?"),
    "E_149": ("Do you take a calcium channel blocker?", "Are you on amlodipine?", "Do you take diltiazem?"),
    "E_197": ("Do your kidneys leak protein?", "Any protein in your urine?", "Do you have nephrotic syndrome?"),
    "E_3": ("Have you had pericarditis before?", "Any previous pericarditis?", "Has the lining of your heart been inflamed?"),
    "E_29": ("Does anyone in your family have a psychiatric illness?", "Any mental illness in the family?", "Do relatives have psychiatric problems?"),
    "E_225": ("Did close relatives have heart disease before 50?", "Any early heart disease in your family?", "Did anyone in your family have a heart attack young?"),
    "E_73": ("Have you been in contact with Ebola?", "Any contact with an Ebola patient?", "Were you exposed to Ebola?"),
    "E_138": ("Have you been diagnosed with fibromyalgia?", "Any fibromyalgia?", "Have you been told you have fibromyalgia?"),
    "E_101": ("Were you hospitalised for asthma this year?", "Any hospital admission for an asthma attack?", "Have you been admitted for asthma?"),
    "E_46": ("Have you had two or more asthma attacks this year?", "How many asthma attacks in the past year?", "Several asthma attacks lately?"),
    "E_119": ("Have you had sinusitis for a long time?", "Any long-term sinus problems?", "Do you get chronic sinus infections?"),
    "E_72": ("Have you had COPD flare-ups this year?", "Any COPD exacerbations?", "How often does your COPD flare up?"),
    "E_198": ("Do you work in farming?", "Do you work on a farm?", "Is your job in agriculture?"),
    "E_200": ("Do you work in mining?", "Are you a miner?", "Is your job underground in a mine?"),
    "E_199": ("Do you work in construction?", "Do you work on a building site?", "Are you a builder?"),
    "E_121": ("Were you told your nasal septum is deviated?", "Is your nasal septum crooked?", "Any deviated nasal septum?"),
    "E_120": ("Have you had nasal polyps?", "Any polyps in your nose?", "Have you been told you have nose polyps?"),
    "E_142": ("Does your mother have asthma?", "Did your mum have asthma?", "Any asthma in your mother?"),
    "E_195": ("Do you live in the suburbs?", "Is your home suburban?", "Do you live outside the city, in the suburbs?"),
    "E_183": ("Do you live in the countryside?", "Is your home in a rural area?", "Do you live rurally?"),
    "E_224": ("Has anyone in your family had lung cancer?", "Any lung cancer in the family?", "Do relatives have lung cancer?"),
    "E_223": ("Has a relative had cancer of the pancreas?", "Is there pancreatic cancer among your relatives?", "Do relatives have pancreatic cancer?"),
    "E_5": ("Have you had fluid in your lungs before?", "Any previous pulmonary oedema?", "Have you had water on the lungs?"),
}

# A finding's label fits one of these shapes; each shape has plain question frames.
_NOUN_FRAMES = ("Have you noticed any {label}?", "Any {label} lately?", "Have you had {label} recently?",
                "Are you troubled by {label}?")
_VERB_FRAMES = {"had ": ("Have you ever {label}?", "Have you {label}?"),
                "can't ": ("Do you find you {label}?",),
                "feeling ": ("Have you been {label}?", "Are you {label}?"),
                "not ": ("Are you {label}?",)}


def knowledge_base_questions(label: str) -> tuple[str, ...]:
    """Questions for an embedded-KB finding from its label (a noun phrase, or 'had …', 'feeling …').

    Cue phrases are left out: many are fragments ("bending down", "upper right") that make no
    question in any frame."""
    frames = next((f for start, f in _VERB_FRAMES.items() if label.startswith(start)), _NOUN_FRAMES)
    return tuple(dict.fromkeys(frame.format(label=label) for frame in frames))


class QuestionBank:
    """Every plain wording per finding code, for the naive-Bayes doctor's vocabulary.

    `release_questions` (DDXPlus `question_en`) join the project's own wordings when short (at most
    `max_release_words`), so the doctor also hears the dataset's phrasing without learning only it.
    """

    def __init__(self, wordings: dict[str, tuple[str, ...]]):
        missing = [code for code, questions in wordings.items() if not questions]
        if missing:
            raise ValueError(f"no question for {missing[:5]}")
        self.wordings = wordings

    @classmethod
    def for_ddxplus(cls, codes, release_questions: dict[str, str], max_release_words: int = 12) -> QuestionBank:
        wordings = {}
        for code in codes:
            own = DDXPLUS_QUESTIONS.get(code, ())
            release = release_questions.get(code, "")
            short = release and len(release.split()) <= max_release_words
            wordings[code] = tuple(dict.fromkeys((*own, *((release,) if short or not own else ()))))
        return cls(wordings)

    @classmethod
    def for_knowledge_base(cls, kb) -> QuestionBank:
        return cls({f.id: knowledge_base_questions(f.label) for f in kb.findings.values()})

    def variants(self, code: str) -> tuple[str, ...]:
        return self.wordings[code]
