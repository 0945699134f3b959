#!/usr/bin/env python3
"""Generate LoRA Lab's embedded datasets.

Writes, next to this script:

  wikitext/wiki.train.raw, wiki.valid.raw, wiki.test.raw
      An encyclopedic corpus in the raw WikiText-2 layout, used to pretrain the
      bundled tiny model. It states every fact that the dialogues ask about,
      many times and in varied phrasings. The valid and test files hold new
      paragraphs (phrasings not used in train) about the same entities.

  dialogues/train.jsonl, dialogues/test.jsonl
      Question/answer dialogues in the Anthropic HH-RLHF layout
      ({"chosen": ..., "rejected": ...}), for supervised fine-tuning and DPO.
      The test split only asks (fact, phrasing) combinations that never occur
      in train: held-out facts or held-out question phrasings.

All text comes from the templates and common-knowledge fact tables in this file.
Standard library only; the output is byte-for-byte deterministic.

Usage, from the project root:

    python3 resources/data/generate_data.py
"""

import json
import math
import os
import random
import re
import sys

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))

# Train corpus size target (bytes); valid and test are each about 5 % of it.
WIKI_TRAIN_TARGET = 2_000_000
WIKI_HELDOUT_FRACTION = 0.05

# =============================================================================
# Text helpers
# =============================================================================

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()


def num_word(n):
    if n < 20:
        return ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        return TENS[t] + ("-" + ONES[o] if o else "")
    if n == 100:
        return "one hundred"
    raise ValueError(n)


def cap1(s):
    return s[:1].upper() + s[1:]


def with_article(word):
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


_IRREGULAR_PLURALS = {
    "sheep": "sheep", "deer": "deer", "mouse": "mice", "goose": "geese", "wolf": "wolves",
    "salmon": "salmon", "fish": "fish", "calf": "calves", "knife": "knives", "scissors": "scissors",
    "glasses": "glasses", "octopus": "octopuses", "hippopotamus": "hippopotamuses",
    "tomato": "tomatoes", "potato": "potatoes", "mango": "mangoes", "sweet potato": "sweet potatoes",
}


def plural(word):
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    head, _, last = word.rpartition(" ")
    prefix = head + " " if head else ""
    if last in _IRREGULAR_PLURALS:
        return prefix + _IRREGULAR_PLURALS[last]
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        return prefix + last[:-1] + "ies"
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return prefix + last + "es"
    return prefix + last + "s"


def third_person(verb):
    if verb.endswith(("s", "z", "ch", "sh", "x")):
        return verb + "es"
    return verb + "s"


def possessive(name):
    return name + ("'" if name.endswith("s") else "'s")


_ABBREVIATIONS = ("D.C.",)
_LEADING = '("'
_TRAILING = ',.;:!?)"'


def wikify(text):
    """Tokenise plain English the way raw WikiText does.

    Punctuation is split off with spaces ("Paris ." / "( number )"), possessives
    become "France 's", and hyphens, thousands separators and decimal points
    inside words or numbers become "@-@", "@,@" and "@.@".
    """
    out = []
    for tok in text.split():
        lead, trail = [], []
        while tok and tok[0] in _LEADING:
            lead.append(tok[0])
            tok = tok[1:]
        while tok and tok not in _ABBREVIATIONS and tok[-1] in _TRAILING:
            trail.insert(0, tok[-1])
            tok = tok[:-1]
        if len(tok) > 2 and tok.endswith("'s"):
            tok = tok[:-2] + " 's"
        elif len(tok) > 2 and tok.endswith("s'"):
            tok = tok[:-1] + " '"
        tok = re.sub(r"(?<=\d),(?=\d)", " @,@ ", tok)
        tok = re.sub(r"(?<=\d)\.(?=\d)", " @.@ ", tok)
        tok = re.sub(r"(?<=\w)-(?=\w)", " @-@ ", tok)
        out.extend(lead)
        if tok:
            out.append(tok)
        out.extend(trail)
    return " ".join(out)


# =============================================================================
# Fact tables (common knowledge)
# =============================================================================

CONTINENTS = ["Europe", "Asia", "Africa", "North America", "South America", "Oceania"]

# name, capital, continent, main language, currency, other languages also widely used there
COUNTRIES = [
    ("France", "Paris", "Europe", "French", "the euro", ()),
    ("Germany", "Berlin", "Europe", "German", "the euro", ()),
    ("Italy", "Rome", "Europe", "Italian", "the euro", ()),
    ("Spain", "Madrid", "Europe", "Spanish", "the euro", ("Catalan",)),
    ("Portugal", "Lisbon", "Europe", "Portuguese", "the euro", ()),
    ("the Netherlands", "Amsterdam", "Europe", "Dutch", "the euro", ()),
    ("Greece", "Athens", "Europe", "Greek", "the euro", ()),
    ("Austria", "Vienna", "Europe", "German", "the euro", ()),
    ("Ireland", "Dublin", "Europe", "English", "the euro", ("Irish",)),
    ("Finland", "Helsinki", "Europe", "Finnish", "the euro", ("Swedish",)),
    ("Croatia", "Zagreb", "Europe", "Croatian", "the euro", ()),
    ("Poland", "Warsaw", "Europe", "Polish", "the zloty", ()),
    ("Sweden", "Stockholm", "Europe", "Swedish", "the Swedish krona", ()),
    ("Norway", "Oslo", "Europe", "Norwegian", "the Norwegian krone", ()),
    ("Denmark", "Copenhagen", "Europe", "Danish", "the Danish krone", ()),
    ("Hungary", "Budapest", "Europe", "Hungarian", "the forint", ()),
    ("the Czech Republic", "Prague", "Europe", "Czech", "the Czech koruna", ()),
    ("Romania", "Bucharest", "Europe", "Romanian", "the Romanian leu", ()),
    ("Russia", "Moscow", "Europe and Asia", "Russian", "the Russian ruble", ()),
    ("the United Kingdom", "London", "Europe", "English", "the pound sterling", ("Welsh",)),
    ("Ukraine", "Kyiv", "Europe", "Ukrainian", "the hryvnia", ("Russian",)),
    ("Iceland", "Reykjavik", "Europe", "Icelandic", "the Icelandic krona", ()),
    ("Japan", "Tokyo", "Asia", "Japanese", "the yen", ()),
    ("China", "Beijing", "Asia", "Chinese", "the yuan", ()),
    ("South Korea", "Seoul", "Asia", "Korean", "the South Korean won", ()),
    ("India", "New Delhi", "Asia", "Hindi", "the Indian rupee", ("English", "Bengali", "Urdu")),
    ("Thailand", "Bangkok", "Asia", "Thai", "the baht", ()),
    ("Vietnam", "Hanoi", "Asia", "Vietnamese", "the dong", ()),
    ("the Philippines", "Manila", "Asia", "Filipino", "the Philippine peso", ("English",)),
    ("Pakistan", "Islamabad", "Asia", "Urdu", "the Pakistani rupee", ("English", "Hindi")),
    ("Bangladesh", "Dhaka", "Asia", "Bengali", "the taka", ()),
    ("Iran", "Tehran", "Asia", "Persian", "the Iranian rial", ()),
    ("Iraq", "Baghdad", "Asia", "Arabic", "the Iraqi dinar", ("Kurdish",)),
    ("Saudi Arabia", "Riyadh", "Asia", "Arabic", "the Saudi riyal", ()),
    ("Malaysia", "Kuala Lumpur", "Asia", "Malay", "the ringgit", ("English", "Chinese")),
    ("Nepal", "Kathmandu", "Asia", "Nepali", "the Nepalese rupee", ("Hindi",)),
    ("Mongolia", "Ulaanbaatar", "Asia", "Mongolian", "the tugrik", ()),
    ("Cambodia", "Phnom Penh", "Asia", "Khmer", "the riel", ()),
    ("Egypt", "Cairo", "Africa", "Arabic", "the Egyptian pound", ()),
    ("Kenya", "Nairobi", "Africa", "Swahili", "the Kenyan shilling", ("English",)),
    ("Nigeria", "Abuja", "Africa", "English", "the naira", ()),
    ("Ghana", "Accra", "Africa", "English", "the cedi", ()),
    ("Ethiopia", "Addis Ababa", "Africa", "Amharic", "the birr", ()),
    ("Morocco", "Rabat", "Africa", "Arabic", "the Moroccan dirham", ("French",)),
    ("Algeria", "Algiers", "Africa", "Arabic", "the Algerian dinar", ("French",)),
    ("Tanzania", "Dodoma", "Africa", "Swahili", "the Tanzanian shilling", ("English",)),
    ("Zambia", "Lusaka", "Africa", "English", "the Zambian kwacha", ()),
    ("Canada", "Ottawa", "North America", "English", "the Canadian dollar", ("French",)),
    ("the United States", "Washington, D.C.", "North America", "English", "the United States dollar",
     ("Spanish",)),
    ("Mexico", "Mexico City", "North America", "Spanish", "the Mexican peso", ()),
    ("Cuba", "Havana", "North America", "Spanish", "the Cuban peso", ()),
    ("Jamaica", "Kingston", "North America", "English", "the Jamaican dollar", ()),
    ("Guatemala", "Guatemala City", "North America", "Spanish", "the quetzal", ()),
    ("Brazil", "Brasilia", "South America", "Portuguese", "the Brazilian real", ()),
    ("Argentina", "Buenos Aires", "South America", "Spanish", "the Argentine peso", ()),
    ("Chile", "Santiago", "South America", "Spanish", "the Chilean peso", ()),
    ("Peru", "Lima", "South America", "Spanish", "the Peruvian sol", ("Quechua",)),
    ("Colombia", "Bogota", "South America", "Spanish", "the Colombian peso", ()),
    ("Venezuela", "Caracas", "South America", "Spanish", "the Venezuelan bolivar", ()),
    ("Uruguay", "Montevideo", "South America", "Spanish", "the Uruguayan peso", ()),
    ("Ecuador", "Quito", "South America", "Spanish", "the United States dollar", ()),
    ("Australia", "Canberra", "Oceania", "English", "the Australian dollar", ()),
    ("New Zealand", "Wellington", "Oceania", "English", "the New Zealand dollar", ("Maori",)),
]

ANIMAL_CLASSES = ["mammal", "bird", "fish", "reptile", "amphibian", "insect"]
CLASS_PLURALS = {"mammal": "mammals", "bird": "birds", "fish": "fish", "reptile": "reptiles",
                 "amphibian": "amphibians", "insect": "insects", "arachnid": "arachnids",
                 "mollusc": "molluscs"}

PLANT_DIETS = ["plants", "grass", "leaves", "bamboo", "nuts", "seeds", "eucalyptus leaves"]
ANIMAL_DIETS = ["meat", "fish", "insects"]
OMNIVORE = "plants and meat"

# habitat category -> habitats that are clearly wrong for an animal of that category
HABITAT_WRONG = {
    "home": ["in the ocean", "in the desert", "in the Arctic"],
    "farm": ["in the ocean", "in the Arctic", "in caves"],
    "water": ["in the desert", "in caves"],
    "sea": ["in the desert", "in forests", "on farms"],
    "savanna": ["in the ocean", "in the Arctic", "in caves"],
    "forest": ["in the ocean", "in the desert", "in Antarctica"],
    "desert": ["in the ocean", "in the Arctic", "in the jungle"],
    "polar": ["in the desert", "in the jungle", "on the savanna"],
    "burrow": ["in the ocean", "in the Arctic"],
    "cave": ["in the ocean", "in the Arctic"],
    "mountain": ["in the ocean", "in ponds"],
    "colony": ["in the ocean", "in the Arctic"],
    "city": ["in the ocean", "in the desert"],
    "australia": ["in the Arctic", "in the ocean"],
    "south": ["in the Arctic", "in the jungle", "on farms"],
}

# name, class, legs, diet, habitat, habitat category, sound (base verb), other sounds it makes, young
ANIMALS = [
    ("dog", "mammal", 4, OMNIVORE, "in homes with people", "home", "bark", ("howl", "growl", "whine"), "puppy"),
    ("cat", "mammal", 4, "meat", "in homes with people", "home", "meow", ("purr", "hiss", "growl"), "kitten"),
    ("cow", "mammal", 4, "grass", "on farms", "farm", "moo", (), "calf"),
    ("horse", "mammal", 4, "grass", "on farms", "farm", "neigh", (), "foal"),
    ("pig", "mammal", 4, OMNIVORE, "on farms", "farm", "oink", ("grunt", "squeal"), "piglet"),
    ("sheep", "mammal", 4, "grass", "on farms", "farm", "bleat", (), "lamb"),
    ("goat", "mammal", 4, "plants", "on farms", "farm", "bleat", (), "kid"),
    ("donkey", "mammal", 4, "grass", "on farms", "farm", "bray", (), "foal"),
    ("chicken", "bird", 2, OMNIVORE, "on farms", "farm", "cluck", ("crow",), "chick"),
    ("rooster", "bird", 2, None, "on farms", "farm", "crow", ("cluck",), None),
    ("duck", "bird", 2, OMNIVORE, "in ponds", "water", "quack", (), "duckling"),
    ("goose", "bird", 2, "grass", "near lakes", "water", "honk", ("hiss",), "gosling"),
    ("turkey", "bird", 2, None, "on farms", "farm", "gobble", (), None),
    ("lion", "mammal", 4, "meat", "on the savanna", "savanna", "roar", ("growl",), "cub"),
    ("tiger", "mammal", 4, "meat", "in forests", "forest", "roar", ("growl",), "cub"),
    ("elephant", "mammal", 4, "plants", None, None, "trumpet", (), "calf"),
    ("giraffe", "mammal", 4, "leaves", "on the savanna", "savanna", None, (), "calf"),
    ("zebra", "mammal", 4, "grass", "on the savanna", "savanna", None, (), "foal"),
    ("cheetah", "mammal", 4, "meat", "on the savanna", "savanna", None, (), "cub"),
    ("bear", "mammal", 4, OMNIVORE, "in forests", "forest", "growl", ("roar",), "cub"),
    ("wolf", "mammal", 4, "meat", "in forests", "forest", "howl", ("growl", "bark"), "pup"),
    ("fox", "mammal", 4, OMNIVORE, "in forests", "forest", None, (), "cub"),
    ("deer", "mammal", 4, "plants", "in forests", "forest", None, (), "fawn"),
    ("rabbit", "mammal", 4, "grass", "in burrows", "burrow", None, (), None),
    ("mouse", "mammal", 4, None, None, None, "squeak", (), None),
    ("squirrel", "mammal", 4, "nuts", "in trees", "forest", None, (), None),
    ("camel", "mammal", 4, "plants", "in the desert", "desert", None, (), "calf"),
    ("monkey", "mammal", None, None, "in the jungle", "forest", None, (), None),
    ("gorilla", "mammal", None, "plants", "in forests", "forest", None, (), None),
    ("kangaroo", "mammal", None, "grass", "in Australia", "australia", None, (), "joey"),
    ("koala", "mammal", 4, "eucalyptus leaves", "in eucalyptus trees", "forest", None, (), "joey"),
    ("panda", "mammal", 4, "bamboo", "in bamboo forests", "forest", None, (), "cub"),
    ("polar bear", "mammal", 4, "meat", "in the Arctic", "polar", None, (), "cub"),
    ("hippopotamus", "mammal", 4, "grass", "in rivers", "water", None, (), "calf"),
    ("whale", "mammal", 0, None, "in the ocean", "sea", None, (), "calf"),
    ("dolphin", "mammal", 0, "fish", "in the ocean", "sea", None, (), "calf"),
    ("seal", "mammal", None, "fish", None, None, "bark", (), "pup"),
    ("bat", "mammal", 2, None, "in caves", "cave", None, (), "pup"),
    ("shark", "fish", 0, "fish", "in the ocean", "sea", None, (), "pup"),
    ("salmon", "fish", 0, None, None, None, None, (), None),
    ("penguin", "bird", 2, "fish", "in the Southern Hemisphere", "south", None, (), "chick"),
    ("ostrich", "bird", 2, OMNIVORE, "on the savanna", "savanna", None, (), "chick"),
    ("owl", "bird", 2, "meat", "in forests", "forest", "hoot", (), "owlet"),
    ("eagle", "bird", 2, "meat", "in the mountains", "mountain", None, (), "eaglet"),
    ("parrot", "bird", 2, "seeds", "in rainforests", "forest", None, (), "chick"),
    ("crow", "bird", 2, OMNIVORE, None, None, "caw", (), "chick"),
    ("pigeon", "bird", 2, "seeds", "in cities", "city", "coo", (), None),
    ("swan", "bird", 2, "plants", "on lakes", "water", None, ("hiss",), "cygnet"),
    ("snake", "reptile", 0, "meat", None, None, "hiss", (), None),
    ("crocodile", "reptile", 4, "meat", "in rivers", "water", None, (), None),
    ("turtle", "reptile", 4, None, None, None, None, (), None),
    ("lizard", "reptile", 4, "insects", None, None, None, (), None),
    ("frog", "amphibian", 4, "insects", "in ponds", "water", "croak", (), "tadpole"),
    ("spider", "arachnid", 8, "insects", None, None, None, (), None),
    ("ant", "insect", 6, None, "in colonies", "colony", None, (), None),
    ("bee", "insect", 6, None, "in hives", "colony", "buzz", (), None),
    ("butterfly", "insect", 6, None, None, None, None, (), "caterpillar"),
    ("beetle", "insect", 6, None, None, None, None, (), None),
    ("octopus", "mollusc", None, None, "in the ocean", "sea", None, (), None),
]

# Other names that are also right for the young of an animal.
YOUNG_ALSO = {"dog": ("pup",), "wolf": ("cub",), "fox": ("pup", "kit"), "duck": ("chick",), "goose": ("chick",),
              "swan": ("chick",), "owl": ("chick",), "eagle": ("chick",), "seal": ("calf",)}

COLOURS = ["red", "yellow", "green", "blue", "orange", "purple", "white", "black", "brown", "pink"]
TASTES = ["sweet", "sour", "bitter", "salty", "spicy"]

# name, article ("" for a mass noun), fruit/vegetable (None: not asked), colour, other colours,
# taste, other tastes
PRODUCE = [
    ("apple", "an", "fruit", "red", ("green", "yellow"), "sweet", ("sour",)),
    ("banana", "a", "fruit", "yellow", ("green",), "sweet", ()),
    ("orange", "an", "fruit", "orange", (), "sweet", ("sour",)),
    ("lemon", "a", "fruit", "yellow", (), "sour", ()),
    ("lime", "a", "fruit", "green", (), "sour", ()),
    ("strawberry", "a", "fruit", "red", (), "sweet", ()),
    ("cherry", "a", "fruit", "red", ("black",), "sweet", ("sour",)),
    ("grape", "a", "fruit", None, (), "sweet", ("sour",)),
    ("mango", "a", "fruit", None, (), "sweet", ()),
    ("pineapple", "a", "fruit", None, (), "sweet", ("sour",)),
    ("peach", "a", "fruit", None, (), "sweet", ()),
    ("pear", "a", "fruit", "green", ("yellow", "brown", "red"), "sweet", ()),
    ("plum", "a", "fruit", "purple", ("red", "yellow"), "sweet", ("sour",)),
    ("watermelon", "a", "fruit", None, (), "sweet", ()),
    ("blueberry", "a", "fruit", "blue", ("purple",), "sweet", ("sour",)),
    ("raspberry", "a", "fruit", "red", (), "sweet", ("sour",)),
    ("blackberry", "a", "fruit", "black", ("purple",), "sweet", ("sour",)),
    ("cranberry", "a", "fruit", "red", (), "sour", ("bitter",)),
    ("grapefruit", "a", "fruit", None, (), "bitter", ("sour",)),
    ("kiwi", "a", "fruit", None, (), "sweet", ("sour",)),
    ("coconut", "a", "fruit", "brown", (), None, ()),
    ("tangerine", "a", "fruit", "orange", (), "sweet", ()),
    ("pomegranate", "a", "fruit", "red", (), "sweet", ("sour",)),
    ("apricot", "an", "fruit", "orange", ("yellow",), "sweet", ()),
    ("papaya", "a", "fruit", None, (), "sweet", ()),
    ("fig", "a", "fruit", None, (), "sweet", ()),
    ("avocado", "an", None, "green", ("black",), None, ()),
    ("carrot", "a", "vegetable", "orange", (), None, ()),
    ("potato", "a", "vegetable", "brown", ("yellow", "red"), None, ()),
    ("onion", "an", "vegetable", None, (), None, ()),
    ("broccoli", "", "vegetable", "green", (), None, ()),
    ("spinach", "", "vegetable", "green", (), None, ()),
    ("lettuce", "", "vegetable", "green", (), None, ()),
    ("cabbage", "", "vegetable", "green", ("purple", "red", "white"), None, ()),
    ("cucumber", "a", None, "green", (), None, ()),
    ("pea", "a", "vegetable", "green", (), None, ()),
    ("celery", "", "vegetable", "green", (), None, ()),
    ("cauliflower", "", "vegetable", "white", (), None, ()),
    ("garlic", "", "vegetable", "white", (), None, ()),
    ("radish", "a", "vegetable", "red", ("white",), "spicy", ("bitter",)),
    ("tomato", "a", None, "red", ("green", "yellow"), None, ()),
    ("eggplant", "an", None, "purple", (), None, ()),
    ("pumpkin", "a", None, "orange", (), None, ()),
    ("corn", "", None, "yellow", ("white",), None, ()),
    ("chili pepper", "a", None, "red", ("green",), "spicy", ()),
    ("kale", "", "vegetable", "green", (), "bitter", ()),
    ("turnip", "a", "vegetable", "white", (), None, ()),
    ("sweet potato", "a", "vegetable", "orange", (), "sweet", ()),
    ("leek", "a", "vegetable", "green", ("white",), None, ()),
    ("asparagus", "", "vegetable", "green", ("white", "purple"), None, ()),
]

# name, article ("" for a mass noun), plural noun, what it is used for, uses that are also right
OBJECTS = [
    ("pen", "a", False, "writing", ()),
    ("crayon", "a", False, "colouring pictures", ()),
    ("paintbrush", "a", False, "painting", ()),
    ("scissors", "", True, "cutting paper", ()),
    ("knife", "a", False, "cutting food", ()),
    ("fork", "a", False, "picking up food", ()),
    ("spoon", "a", False, "eating soup", ()),
    ("cup", "a", False, "drinking", ()),
    ("kettle", "a", False, "boiling water", ()),
    ("oven", "an", False, "baking", ("cooking food",)),
    ("refrigerator", "a", False, "keeping food cold", ()),
    ("freezer", "a", False, "freezing food", ("keeping food cold",)),
    ("stove", "a", False, "cooking food", ("boiling water", "frying food")),
    ("frying pan", "a", False, "frying food", ("cooking food",)),
    ("toaster", "a", False, "toasting bread", ()),
    ("umbrella", "an", False, "keeping dry in the rain", ()),
    ("key", "a", False, "opening locks", ()),
    ("clock", "a", False, "telling the time", ()),
    ("calendar", "a", False, "keeping track of dates", ()),
    ("map", "a", False, "finding the way", ("finding directions",)),
    ("compass", "a", False, "finding directions", ("finding the way",)),
    ("ladder", "a", False, "climbing up high", ()),
    ("hammer", "a", False, "hitting nails", ()),
    ("screwdriver", "a", False, "turning screws", ()),
    ("saw", "a", False, "cutting wood", ("chopping wood",)),
    ("axe", "an", False, "chopping wood", ("cutting wood",)),
    ("shovel", "a", False, "digging holes", ()),
    ("rake", "a", False, "gathering leaves", ()),
    ("broom", "a", False, "sweeping the floor", ()),
    ("mop", "a", False, "washing floors", ()),
    ("vacuum cleaner", "a", False, "cleaning carpets", ()),
    ("soap", "", False, "washing hands", ()),
    ("towel", "a", False, "drying your body", ()),
    ("toothbrush", "a", False, "brushing teeth", ()),
    ("comb", "a", False, "combing hair", ()),
    ("mirror", "a", False, "seeing your reflection", ()),
    ("pillow", "a", False, "resting your head", ()),
    ("blanket", "a", False, "keeping warm in bed", ()),
    ("lamp", "a", False, "giving light", ()),
    ("telephone", "a", False, "talking to people far away", ()),
    ("camera", "a", False, "taking photographs", ()),
    ("keyboard", "a", False, "typing", ()),
    ("printer", "a", False, "printing documents", ()),
    ("stapler", "a", False, "joining sheets of paper", ()),
    ("ruler", "a", False, "measuring length", ()),
    ("thermometer", "a", False, "measuring temperature", ()),
    ("scale", "a", False, "weighing things", ()),
    ("eraser", "an", False, "removing pencil marks", ()),
    ("glue", "", False, "sticking things together", ()),
    ("needle", "a", False, "sewing", ()),
    ("boat", "a", False, "travelling on water", ()),
    ("wallet", "a", False, "holding money", ()),
    ("bucket", "a", False, "carrying water", ()),
    ("glasses", "", True, "seeing clearly", ()),
    ("fan", "a", False, "cooling the air", ()),
    ("heater", "a", False, "warming a room", ()),
    ("washing machine", "a", False, "washing clothes", ()),
    ("dishwasher", "a", False, "washing dishes", ()),
    ("iron", "an", False, "smoothing clothes", ()),
    ("microscope", "a", False, "seeing very small things", ()),
    ("telescope", "a", False, "seeing faraway objects", ()),
    ("fishing rod", "a", False, "catching fish", ()),
    ("calculator", "a", False, "doing sums", ()),
    ("alarm clock", "an", False, "waking people up", ("telling the time",)),
    ("envelope", "an", False, "sending letters", ()),
    ("whistle", "a", False, "making a loud sound", ()),
    ("tent", "a", False, "sleeping outdoors", ()),
    ("helmet", "a", False, "protecting the head", ()),
    ("sponge", "a", False, "soaking up water", ()),
]

# (word, opposite, also the other direction?)
OPPOSITE_PAIRS = [
    ("hot", "cold", True), ("big", "small", True), ("up", "down", True), ("in", "out", True),
    ("open", "closed", True), ("happy", "sad", True), ("fast", "slow", True), ("day", "night", True),
    ("wet", "dry", True), ("early", "late", True), ("full", "empty", True), ("thick", "thin", True),
    ("strong", "weak", True), ("rich", "poor", True), ("loud", "quiet", True), ("clean", "dirty", True),
    ("push", "pull", True), ("buy", "sell", True), ("true", "false", True), ("yes", "no", True),
    ("north", "south", True), ("east", "west", True), ("black", "white", True), ("above", "below", True),
    ("before", "after", True), ("first", "last", True), ("inside", "outside", True), ("top", "bottom", True),
    ("near", "far", True), ("high", "low", True), ("good", "bad", True), ("love", "hate", True),
    ("always", "never", True), ("remember", "forget", True), ("question", "answer", True),
    ("summer", "winter", True), ("asleep", "awake", True), ("friend", "enemy", True),
    ("cheap", "expensive", True), ("safe", "dangerous", True), ("smooth", "rough", True),
    ("wide", "narrow", True), ("deep", "shallow", True), ("laugh", "cry", True), ("give", "take", True),
    ("alive", "dead", True), ("entrance", "exit", True), ("boy", "girl", True), ("man", "woman", True),
    ("king", "queen", True), ("sunrise", "sunset", True), ("odd", "even", True), ("on", "off", True),
    ("over", "under", True), ("polite", "rude", True), ("sharp", "blunt", True), ("tight", "loose", True),
    ("float", "sink", True), ("ancient", "modern", True), ("borrow", "lend", True),
    ("accept", "refuse", True), ("easy", "difficult", True), ("left", "right", False),
    ("heavy", "light", False), ("dark", "light", False), ("tall", "short", False), ("long", "short", False),
    ("young", "old", False), ("new", "old", False), ("soft", "hard", False), ("arrive", "leave", False),
    ("win", "lose", False), ("begin", "end", False), ("front", "back", False), ("noisy", "quiet", False),
]

# Parts of speech of the opposite words that are not adjectives (wrong answers keep the same one).
OPPOSITE_POS = {
    "verb": "push pull buy sell remember forget laugh cry give take borrow lend accept refuse arrive leave "
            "win lose begin end float sink love hate",
    "noun": "day night question answer summer winter friend enemy entrance exit boy girl man woman king queen "
            "sunrise sunset",
    "place": "up down in out above below before after inside outside over under on off near far always never "
             "yes no north south east west left right top bottom front back",
}

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [("January", 31), ("February", None), ("March", 31), ("April", 30), ("May", 31), ("June", 30),
          ("July", 31), ("August", 31), ("September", 30), ("October", 31), ("November", 30),
          ("December", 31)]
SEASONS = ["spring", "summer", "autumn", "winter"]
PLANETS = ["Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"]
SHAPES = [("triangle", 3), ("square", 4), ("rectangle", 4), ("pentagon", 5), ("hexagon", 6),
          ("heptagon", 7), ("octagon", 8), ("nonagon", 9), ("decagon", 10)]

# things, number, where, subject that "has" them, wrong numbers
UNITS = [
    ("days", "seven", " in a week", "a week", ["five", "six", "ten"]),
    ("months", "twelve", " in a year", "a year", ["ten", "eleven", "fourteen"]),
    ("hours", "twenty-four", " in a day", "a day", ["twelve", "twenty", "thirty"]),
    ("minutes", "sixty", " in an hour", "an hour", ["thirty", "one hundred", "forty"]),
    ("seconds", "sixty", " in a minute", "a minute", ["thirty", "one hundred", "ten"]),
    ("days", "365", " in a year", "a year", ["300", "350", "400"]),
    ("weeks", "fifty-two", " in a year", "a year", ["forty", "twelve", "sixty"]),
    ("years", "ten", " in a decade", "a decade", ["five", "twenty", "one hundred"]),
    ("years", "one hundred", " in a century", "a century", ["ten", "fifty", "1,000"]),
    ("centimetres", "one hundred", " in a metre", "a metre", ["ten", "1,000", "fifty"]),
    ("metres", "1,000", " in a kilometre", "a kilometre", ["one hundred", "ten", "10,000"]),
    ("grams", "1,000", " in a kilogram", "a kilogram", ["one hundred", "ten", "10,000"]),
    ("seasons", "four", " in a year", "a year", ["three", "five", "six"]),
    ("continents", "seven", "", "the world", ["five", "six", "nine"]),
    ("planets", "eight", " in the Solar System", "the Solar System", ["seven", "nine", "ten"]),
    ("colours", "seven", " in a rainbow", "a rainbow", ["five", "six", "eight"]),
    ("players", "eleven", " in a football team", "a football team", ["nine", "ten", "twelve"]),
]

COLOUR_MIXES = [("red", "yellow", "orange"), ("blue", "yellow", "green"), ("red", "blue", "purple"),
                ("red", "white", "pink"), ("black", "white", "grey")]

# verb, -ing form, body part (plural, as in "their eyes"), with article ("the eyes")
BODY = [("see", "seeing", "eyes", "the eyes"), ("hear", "hearing", "ears", "the ears"),
        ("smell", "smelling", "noses", "the nose"), ("taste", "tasting", "tongues", "the tongue"),
        ("think", "thinking", "brains", "the brain"), ("chew", "chewing", "teeth", "the teeth"),
        ("walk", "walking", "legs", "the legs"), ("breathe", "breathing", "lungs", "the lungs")]

# adjective, noun, plural noun, suffix, answer, wrong answers, article that tells about it
SUPERLATIVES = [
    ("largest", "planet", "planets", "", "Jupiter", ["Saturn", "Earth", "Mars"], "Jupiter"),
    ("smallest", "planet", "planets", "", "Mercury", ["Jupiter", "Neptune", "Earth"], "Mercury"),
    ("hottest", "planet", "planets", "", "Venus", ["Mars", "Neptune", "Jupiter"], "Venus"),
    ("closest", "planet", "planets", " to the Sun", "Mercury", ["Neptune", "Jupiter", "Mars"], "Mercury"),
    ("largest", "ocean", "oceans", "", "the Pacific Ocean",
     ["the Atlantic Ocean", "the Indian Ocean", "the Arctic Ocean"], "Pacific Ocean"),
    ("largest", "continent", "continents", "", "Asia", ["Europe", "Africa", "South America"], "Asia"),
    ("highest", "mountain", "mountains", "", "Mount Everest",
     ["Mont Blanc", "Mount Kilimanjaro", "Mount Fuji"], "Mount Everest"),
    ("largest", "animal", "animals", "", "the blue whale", ["the elephant", "the giraffe", "the shark"],
     "Blue whale"),
    ("tallest", "animal", "animals", "", "the giraffe", ["the elephant", "the horse", "the camel"], "Giraffe"),
    ("fastest", "land animal", "land animals", "", "the cheetah", ["the lion", "the horse", "the zebra"],
     "Cheetah"),
    ("largest", "bird", "birds", "", "the ostrich", ["the eagle", "the penguin", "the swan"], "Ostrich"),
    ("largest", "country", "countries", "", "Russia", ["China", "Canada", "Brazil"], "Russia"),
    ("closest", "star", "stars", " to Earth", "the Sun", ["the North Star", "Sirius", "the Moon"], "Sun"),
]

# =============================================================================
# Facts
# =============================================================================


class Fact:
    """One answerable fact: a type, the fields its templates use, its value and wrong values."""

    def __init__(self, ftype, key, fields, value, wrongs, group=None):
        self.ftype = ftype
        self.key = key
        self.fields = dict(fields)
        self.fields["v"] = value
        self.value = value
        self.wrongs = [w for w in wrongs if w != value]
        self.group = group or key  # entity that the fact is about (for holding out whole entities)
        self.fid = ftype + ":" + key

    def fmt(self, template, **extra):
        fields = dict(self.fields)
        fields.update(extra)
        text = cap1(template.format(**fields))
        # a value that ends with an abbreviation ("Washington, D.C.") also ends the sentence
        return text[:-1] if text.endswith("..") else text

    def answer(self):
        return self.fmt(ANSWERS[self.ftype])

    def wrong_answer(self, rng):
        value = rng.choice(self.wrongs)
        return self.fmt(ANSWERS[self.ftype], v=value)

    def mention(self):
        tmpl = MENTIONS.get(self.ftype)
        return tmpl.format(**self.fields) if tmpl else None


ANSWERS = {
    "capital": "The capital of {c} is {v}.",
    "continent": "{c} is in {v}.",
    "language": "The main language of {c} is {v}.",
    "currency": "The currency of {c} is {v}.",
    "sound": "{a} {v}.",
    "habitat": "{a} lives {v}.",
    "diet": "{a} eats {v}.",
    "legs": "{a} has {v}.",
    "class": "{a} is {v}.",
    "young": "A baby {n} is called {v}.",
    "colour": "{f} is {v}.",
    "taste": "{f} tastes {v}.",
    "kind": "{f} is {v}.",
    "use": "{o} {is} used for {v}.",
    "opposite": "The opposite of {w} is {v}.",
    "add": "{a} plus {b} equals {v}.",
    "sub": "{a} minus {b} equals {v}.",
    "mul": "{a} times {b} equals {v}.",
    "day_after": "The day after {d} is {v}.",
    "day_before": "The day before {d} is {v}.",
    "month_after": "The month after {m} is {v}.",
    "month_before": "The month before {m} is {v}.",
    "month_days": "{m} has {v} days.",
    "month_order": "The {ord} month of the year is {v}.",
    "season_after": "The season after {s} is {v}.",
    "season_before": "The season before {s} is {v}.",
    "planet_position": "The {ord} planet from the Sun is {v}.",
    "planet_order": "{p} is the {v} planet from the Sun.",
    "superlative": "The {adj} {noun}{suf} is {v}.",
    "shape_sides": "{a} has {v} sides.",
    "shape_name": "A shape with {n} sides is called {v}.",
    "units": "There are {v} {things}{where}.",
    "colour_mix": "{a} and {b} make {v}.",
    "body": "People {verb} with their {v}.",
}

# What a follow-up question ("What about ...?") names, per fact type.
MENTIONS = {
    "capital": "{c}", "continent": "{c}", "language": "{c}", "currency": "{c}",
    "sound": "{a}", "habitat": "{a}", "diet": "{a}", "legs": "{a}", "class": "{a}", "young": "{a}",
    "colour": "{f}", "taste": "{f}", "kind": "{f}", "use": "{o}", "opposite": "the word {w}",
    "add": "{a} plus {b}", "sub": "{a} minus {b}", "mul": "{a} times {b}",
    "day_after": "{d}", "day_before": "{d}", "month_after": "{m}", "month_before": "{m}",
    "month_days": "{m}", "month_order": "the {ord} month", "season_after": "{s}", "season_before": "{s}",
    "planet_position": "the {ord} planet", "planet_order": "{p}", "shape_sides": "{a}",
    "shape_name": "{n} sides", "units": "{things}{where}", "colour_mix": "{a} and {b}", "body": "{ving}",
}

# Question templates: (train phrasings, test-only phrasings).
QUESTIONS = {
    "capital": (["What is the capital of {c}?", "Which city is the capital of {c}?",
                 "Tell me the capital of {c}.", "What city is the capital of {c}?",
                 "Do you know the capital of {c}?", "Name the capital city of {c}."],
                ["Can you tell me the capital of {c}?"]),
    "continent": (["Which continent is {c} in?", "On which continent is {c}?", "What continent is {c} on?",
                   "Where is {c} located?", "In which continent can you find {c}?"],
                  ["Which continent does {c} belong to?"]),
    "language": (["What language do people speak in {c}?", "What is the main language of {c}?",
                  "Which language is spoken in {c}?", "What language is spoken in {c}?",
                  "What do people in {c} mainly speak?"],
                 ["What is the primary language of {c}?"]),
    "currency": (["What is the currency of {c}?", "What money is used in {c}?",
                  "Which currency is used in {c}?", "What currency does {c} use?",
                  "What do people in {c} pay with?"],
                 ["What is the official currency of {c}?"]),
    "sound": (["What sound does {a} make?", "What noise does {a} make?", "What does {a} say?",
               "What kind of sound does {a} make?", "How does {a} sound?"],
              ["Which sound does {a} make?"]),
    "habitat": (["Where does {a} live?", "Where can you find {a}?", "What is the habitat of {a}?",
                 "Where does {a} usually live?", "In what kind of place does {a} live?"],
                ["Where would you find {a} living?"]),
    "diet": (["What does {a} eat?", "What kind of food does {a} eat?", "What is the diet of {a}?",
              "What food does {a} eat?", "What does {a} like to eat?"],
             ["What does {a} feed on?"]),
    "legs": (["How many legs does {a} have?", "How many legs has {a} got?",
              "What is the number of legs of {a}?", "Tell me how many legs {a} has.",
              "How many legs are there on {a}?"],
             ["Can you count the legs of {a}?"]),
    "class": (["What kind of animal is {a}?", "What type of animal is {a}?",
               "Which group of animals does {a} belong to?", "What class of animal is {a}?",
               "Tell me what kind of animal {a} is."],
              ["To which animal group does {a} belong?"]),
    "young": (["What is a baby {n} called?", "What do you call a baby {n}?", "What is the name for a baby {n}?",
               "What is a young {n} called?", "What is the word for a baby {n}?"],
              ["Which word names a baby {n}?"]),
    "colour": (["What colour is {f}?", "What color is {f}?", "Which colour is {f}?", "What is the colour of {f}?",
                "Tell me the color of {f}."],
               ["What colour does {f} have?"]),
    "taste": (["What does {f} taste like?", "How does {f} taste?", "What is the taste of {f}?",
               "What flavour does {f} have?", "Describe the taste of {f}."],
              ["What kind of taste does {f} have?"]),
    "kind": (["Is {f} a fruit or a vegetable?", "Is {f} a vegetable or a fruit?", "What kind of food is {f}?",
              "Would you call {f} a fruit or a vegetable?", "Tell me if {f} is a fruit or a vegetable."],
             ["Is {f} classed as a fruit or a vegetable?"]),
    "use": (["What {is} {o} used for?", "What do people use {o} for?", "What is the purpose of {o}?",
             "Why do people use {o}?", "What can you do with {o}?", "Tell me what {o} {is} used for."],
            ["What task {is} {o} meant for?"]),
    "opposite": (["What is the opposite of {w}?", "What is the opposite of the word {w}?",
                  "Tell me the opposite of {w}.", "Which word means the opposite of {w}?",
                  "Give me the opposite of {w}."],
                 ["What word is the opposite of {w}?"]),
    "add": (["What is {a} plus {b}?", "How much is {a} plus {b}?", "What do you get if you add {a} and {b}?",
             "What is the sum of {a} and {b}?", "Add {a} and {b}.", "Can you work out {a} plus {b}?"],
            ["What does {a} plus {b} equal?"]),
    "sub": (["What is {a} minus {b}?", "How much is {a} minus {b}?",
             "What do you get if you take {b} away from {a}?", "What is {b} subtracted from {a}?",
             "Subtract {b} from {a}.", "Can you work out {a} minus {b}?"],
            ["What does {a} minus {b} equal?"]),
    "mul": (["What is {a} times {b}?", "How much is {a} times {b}?", "What is {a} multiplied by {b}?",
             "What do you get if you multiply {a} by {b}?", "What is the product of {a} and {b}?",
             "Can you work out {a} times {b}?"],
            ["What does {a} times {b} equal?"]),
    "day_after": (["What day comes after {d}?", "Which day follows {d}?", "What is the day after {d}?",
                   "If today is {d}, what day is tomorrow?", "Tell me the day that comes after {d}."],
                  ["Which day of the week comes after {d}?"]),
    "day_before": (["What day comes before {d}?", "Which day is just before {d}?", "What is the day before {d}?",
                    "If today is {d}, what day was yesterday?", "Tell me the day that comes before {d}."],
                   ["Which day of the week comes before {d}?"]),
    "month_after": (["What month comes after {m}?", "Which month follows {m}?", "What is the month after {m}?",
                     "Tell me the month that comes after {m}.", "What month is next after {m}?"],
                    ["Which month of the year comes after {m}?"]),
    "month_before": (["What month comes before {m}?", "Which month is just before {m}?",
                      "What is the month before {m}?", "Tell me the month that comes before {m}.",
                      "What month is right before {m}?"],
                     ["Which month of the year comes before {m}?"]),
    "month_days": (["How many days are in {m}?", "How many days does {m} have?", "How long is {m} in days?",
                    "Tell me how many days there are in {m}.", "How many days are there in {m}?"],
                   ["What is the number of days in {m}?"]),
    "month_order": (["What is the {ord} month of the year?", "Which month is the {ord} month of the year?",
                     "Name the {ord} month of the year.", "Tell me the {ord} month of the year.",
                     "What month comes {ord} in the year?"],
                    ["Which month is {ord} in the calendar?"]),
    "season_after": (["What season comes after {s}?", "Which season follows {s}?", "What is the season after {s}?",
                      "Tell me the season that comes after {s}.", "What comes after {s}?"],
                     ["Which season of the year comes after {s}?"]),
    "season_before": (["What season comes before {s}?", "Which season is just before {s}?",
                       "What is the season before {s}?", "Tell me the season that comes before {s}.",
                       "What comes before {s}?"],
                      ["Which season of the year comes before {s}?"]),
    "planet_position": (["Which planet is {ord} from the Sun?", "What is the {ord} planet from the Sun?",
                         "Name the {ord} planet from the Sun.", "Tell me the {ord} planet from the Sun.",
                         "Which planet comes {ord} from the Sun?"],
                        ["Which planet is the {ord} one from the Sun?"]),
    "planet_order": (["What number planet from the Sun is {p}?", "Where is {p} in order from the Sun?",
                      "In order from the Sun, where does {p} come?", "Which planet from the Sun is {p}?",
                      "Counting from the Sun, which planet is {p}?"],
                     ["What is the position of {p} from the Sun?"]),
    "superlative": (["What is the {adj} {noun}{suf}?", "Which {noun} is the {adj}{suf}?",
                     "Name the {adj} {noun}{suf}.", "Tell me the {adj} {noun}{suf}.",
                     "Do you know which {noun} is the {adj}{suf}?"],
                    ["Which is the {adj} {noun}{suf}?"]),
    "shape_sides": (["How many sides does {a} have?", "How many sides has {a} got?",
                     "What is the number of sides of {a}?", "Tell me how many sides {a} has.",
                     "How many sides are there on {a}?"],
                    ["Can you count the sides of {a}?"]),
    "shape_name": (["What is a shape with {n} sides called?", "What do you call a shape with {n} sides?",
                    "Which shape has {n} sides?", "Name the shape that has {n} sides.",
                    "What is the name of a shape with {n} sides?"],
                   ["What name is given to a shape with {n} sides?"]),
    "units": (["How many {things} are there{where}?", "What is the number of {things}{where}?",
               "Tell me how many {things} there are{where}.", "Do you know how many {things} there are{where}?",
               "How many {things} make up {subj}?"],
              ["Can you say how many {things} there are{where}?"]),
    "colour_mix": (["What colour do you get when you mix {a} and {b}?", "What do {a} and {b} make?",
                    "If you mix {a} and {b}, what colour do you get?", "What colour comes from mixing {a} and {b}?",
                    "What color do {a} and {b} make together?"],
                   ["Which colour is made by mixing {a} and {b}?"]),
    "body": (["What do people {verb} with?", "Which part of the body do people {verb} with?",
              "What do people use to {verb}?", "Which body part helps people {verb}?",
              "Tell me what people {verb} with."],
             ["What body part do people use to {verb}?"]),
}

FOLLOWUPS = (["What about {m}?", "And {m}?", "How about {m}?"], ["And what about {m}?"])

UNHELPFUL = ["I don't know.", "I'm not sure.", "I have no idea.", "Sorry, I can't help with that.",
             "I would rather not say.", "That is a hard question."]
CHITCHAT = ["I like to read books on rainy days.", "Let's talk about something else.",
            "My favourite colour is blue.", "It is a nice day for a walk.", "I enjoy listening to music.",
            "Have you had lunch yet?"]


def _wrong_numbers(c):
    out = []
    for d in (1, -1, 2, -2, 10, 3):
        if 0 <= c + d <= 100:
            out.append(num_word(c + d))
    return out


def build_facts():
    facts = []
    all_capitals = [co[1] for co in COUNTRIES]
    all_languages = []
    all_currencies = []
    for co in COUNTRIES:
        if co[3] not in all_languages:
            all_languages.append(co[3])
        if co[4] not in all_currencies:
            all_currencies.append(co[4])
    for name, capital, cont, lang, cur, also in COUNTRIES:
        f = country_fields(name, capital, cont, lang, cur)
        same_cont = [co[1] for co in COUNTRIES if co[2] == cont and co[1] != capital]
        facts.append(Fact("capital", name, f, capital, same_cont + [c for c in all_capitals if c not in same_cont],
                          group=name))
        facts.append(Fact("continent", name, f, cont, [c for c in CONTINENTS if c not in cont], group=name))
        facts.append(Fact("language", name, f, lang,
                          [x for x in all_languages if x != lang and x not in also], group=name))
        facts.append(Fact("currency", name, f, cur, [x for x in all_currencies if x != cur], group=name))

    sounds = [a[6] for a in ANIMALS if a[6]]
    youngs = []
    for a in ANIMALS:
        if a[8] and a[8] not in youngs:
            youngs.append(a[8])
    for name, cls, legs, diet, hab, habcat, sound, sound_also, young in ANIMALS:
        f = animal_fields(name, cls, legs, diet, hab, sound, young)
        if cls in ANIMAL_CLASSES or cls in CLASS_PLURALS:
            facts.append(Fact("class", name, f, with_article(cls),
                              [with_article(c) for c in ANIMAL_CLASSES if c != cls], group=name))
        if legs is not None:
            facts.append(Fact("legs", name, f, legs_phrase(legs),
                              [legs_phrase(n) for n in (0, 2, 4, 6, 8) if n != legs], group=name))
        if diet is not None:
            if diet in PLANT_DIETS:
                wr = list(ANIMAL_DIETS)
            elif diet == OMNIVORE:
                wr = ["only grass", "only leaves", "only fish"]
            else:
                wr = ["plants", "grass", "leaves", "bamboo"]
            facts.append(Fact("diet", name, f, diet, wr, group=name))
        if hab is not None:
            facts.append(Fact("habitat", name, f, hab, HABITAT_WRONG[habcat], group=name))
        if sound is not None:
            facts.append(Fact("sound", name, f, third_person(sound),
                              [third_person(s) for s in sounds if s != sound and s not in sound_also], group=name))
        if young is not None:
            facts.append(Fact("young", name, f, with_article(young),
                              [with_article(y) for y in youngs if y != young and y not in YOUNG_ALSO.get(name, ())],
                              group=name))

    for name, article, kind, colour, colour_also, taste, taste_also in PRODUCE:
        f = produce_fields(name, article)
        if kind:
            facts.append(Fact("kind", name, dict(f, kind=kind), with_article(kind),
                              [with_article(k) for k in ("fruit", "vegetable") if k != kind], group=name))
        if colour:
            facts.append(Fact("colour", name, f, colour,
                              [c for c in COLOURS if c != colour and c not in colour_also], group=name))
        if taste:
            facts.append(Fact("taste", name, f, taste,
                              [t for t in TASTES if t != taste and t not in taste_also], group=name))

    all_uses = [o[3] for o in OBJECTS]
    for name, article, is_plural, use, also in OBJECTS:
        f = object_fields(name, article, is_plural)
        facts.append(Fact("use", name, f, use, [u for u in all_uses if u != use and u not in also]))

    pos = {}
    for tag, words in OPPOSITE_POS.items():
        for word in words.split():
            pos[word] = tag
    directed = []
    for w, v, both in OPPOSITE_PAIRS:
        directed.append((w, v))
        if both:
            directed.append((v, w))
    values = []
    for _, v in directed:
        if v not in values:
            values.append(v)
    for w, v in directed:
        right = [v2 for w2, v2 in directed if w2 == w]
        wrong = [x for x in values if x not in right and x != w and pos.get(x, "adj") == pos.get(w, "adj")]
        facts.append(Fact("opposite", w, {"w": w}, v, wrong))

    for a in range(0, 11):
        for b in range(0, 11):
            f = {"a": num_word(a), "b": num_word(b)}
            facts.append(Fact("add", "%d+%d" % (a, b), f, num_word(a + b), _wrong_numbers(a + b)))
    for a in range(0, 11):
        for b in range(0, a + 1):
            f = {"a": num_word(a), "b": num_word(b)}
            facts.append(Fact("sub", "%d-%d" % (a, b), f, num_word(a - b), _wrong_numbers(a - b)))
    for a in range(1, 11):
        for b in range(1, 11):
            f = {"a": num_word(a), "b": num_word(b)}
            wr = [num_word(x) for x in (a * b + b, a * b - b, a * b + 1, a * b - 1, a + b)
                  if 0 <= x <= 100 and x != a * b]
            facts.append(Fact("mul", "%dx%d" % (a, b), f, num_word(a * b), wr))

    for i, d in enumerate(DAYS):
        nxt, prv = DAYS[(i + 1) % 7], DAYS[(i - 1) % 7]
        facts.append(Fact("day_after", d, {"d": d}, nxt, [x for x in DAYS if x not in (d, nxt, prv)]))
        facts.append(Fact("day_before", d, {"d": d}, prv, [x for x in DAYS if x not in (d, nxt, prv)]))
    month_names = [m for m, _ in MONTHS]
    for i, (m, days) in enumerate(MONTHS):
        nxt, prv = month_names[(i + 1) % 12], month_names[(i - 1) % 12]
        others = [x for x in month_names if x not in (m, nxt, prv)]
        facts.append(Fact("month_after", m, {"m": m}, nxt, others))
        facts.append(Fact("month_before", m, {"m": m}, prv, others))
        facts.append(Fact("month_order", m, {"ord": ORDINALS[i]}, m, [x for x in month_names if x != m]))
        if days:
            facts.append(Fact("month_days", m, {"m": m}, num_word(days),
                              [num_word(x) for x in (28, 30, 31) if x != days]))
    for i, s in enumerate(SEASONS):
        nxt, prv = SEASONS[(i + 1) % 4], SEASONS[(i - 1) % 4]
        facts.append(Fact("season_after", s, {"s": s}, nxt, [x for x in SEASONS if x not in (s, nxt)]))
        facts.append(Fact("season_before", s, {"s": s}, prv, [x for x in SEASONS if x not in (s, prv)]))
    for i, p in enumerate(PLANETS):
        facts.append(Fact("planet_position", p, {"ord": ORDINALS[i]}, p, [x for x in PLANETS if x != p]))
        facts.append(Fact("planet_order", p, {"p": p}, ORDINALS[i],
                          [ORDINALS[j] for j in range(8) if j != i]))
    for adj, noun, nouns, suf, v, wrong, _ in SUPERLATIVES:
        key = adj + " " + noun + suf
        facts.append(Fact("superlative", key, {"adj": adj, "noun": noun, "nouns": nouns, "suf": suf}, v, wrong))
    side_counts = {}
    for s, n in SHAPES:
        side_counts.setdefault(n, []).append(s)
    for s, n in SHAPES:
        facts.append(Fact("shape_sides", s, {"a": with_article(s), "s": s}, num_word(n),
                          [num_word(x) for x in range(3, 11) if x != n]))
    for n, names in sorted(side_counts.items()):
        if len(names) == 1:
            facts.append(Fact("shape_name", str(n), {"n": num_word(n)}, with_article(names[0]),
                              [with_article(s) for s, k in SHAPES if k != n]))
    for things, n, where, subj, wrong in UNITS:
        key = things + where if where else things
        facts.append(Fact("units", key, {"things": things, "where": where, "subj": subj}, n, wrong))
    for a, b, c in COLOUR_MIXES:
        for x, y in ((a, b), (b, a)):
            wr = [k for k in ("orange", "green", "purple", "pink", "grey", "brown") if k != c]
            facts.append(Fact("colour_mix", x + "+" + y, {"a": x, "b": y}, c, wr))
    for verb, ving, part, part_s in BODY:
        facts.append(Fact("body", verb, {"verb": verb, "ving": ving, "part_s": part_s}, part,
                          [p for _, _, p, _ in BODY if p != part]))
    return facts


def country_fields(name, capital, cont, lang, cur):
    return {
        "c": name, "C": cap1(name), "poss": possessive(name), "cap": capital, "cont": cont,
        "capcont": "Europe" if cont == "Europe and Asia" else cont, "lang": lang, "cur": cur,
        "curname": cap1(cur[4:] if cur.startswith("the ") else cur),
    }


def legs_phrase(n):
    return "no legs" if n == 0 else num_word(n) + " legs"


def animal_fields(name, cls, legs, diet, hab, sound, young):
    f = {"n": name, "a": with_article(name), "p": plural(name), "cls": cls, "acls": with_article(cls),
         "clsp": CLASS_PLURALS[cls]}
    if legs is not None:
        f["legs"] = legs_phrase(legs)
        f["legsn"] = num_word(legs)
    if diet is not None:
        f["diet"] = diet
    if hab is not None:
        f["hab"] = hab
    if sound is not None:
        f["snd"] = third_person(sound)
        f["sndb"] = sound
        f["asnd"] = with_article(sound)
    if young is not None:
        f["y"] = young
        f["ay"] = with_article(young)
        f["yp"] = plural(young)
    return f


def produce_fields(name, article):
    mass = article == ""
    return {"n": name, "f": (article + " " + name) if article else name,
            "p": name if mass else plural(name), "are": "is" if mass else "are",
            "tst": "tastes" if mass else "taste", "mass": mass}


def object_fields(name, article, is_plural):
    f = {"n": name, "o": (article + " " + name) if article else name, "is": "are" if is_plural else "is",
         "p": name if is_plural or not article else plural(name)}
    f["pare"] = "are" if (is_plural or article) else "is"
    return f


# =============================================================================
# Wiki sentence templates, per fact type: (train phrasings, held-out phrasings).
# The first train phrasing mirrors the dialogue answer and is used most often.
# =============================================================================

FACT_SENTENCES = {
    "capital": (["The capital of {c} is {v}.", "{v} is the capital of {c}.", "{v} is the capital city of {c}.",
                 "The capital city of {c} is {v}.", "{c} has {v} as its capital.",
                 "{v}, the capital of {c}, is an important city.", "The city of {v} is the capital of {c}.",
                 "In {c}, the capital city is {v}.", "The name of the capital of {c} is {v}."],
                ["{poss} capital is {v}.", "{v} serves as the capital of {c}.",
                 "The city that is the capital of {c} is {v}."]),
    "continent": (["{c} is in {v}.", "{c} is a country in {v}.", "{c} is located in {v}.", "{c} lies in {v}.",
                   "The country of {c} is part of {v}.", "{c} is one of the countries of {v}.",
                   "{c} is found in {v}.", "{c} is part of {v}."],
                  ["{c} is one of the countries found in {v}.", "Geographically, {c} belongs to {v}.",
                   "On a map, {c} can be found in {v}."]),
    "language": (["The main language of {c} is {v}.", "{v} is the main language of {c}.",
                  "Many people in {c} speak {v}.", "{v} is widely spoken in {c}.",
                  "In {c}, many people speak {v}.", "The most important language in {c} is {v}.",
                  "{v} is taught in many schools in {c}.", "Many newspapers in {c} are written in {v}."],
                 ["{v} is the principal language used in {c}.", "{poss} main language is {v}.",
                  "The chief language of {c} is {v}."]),
    "currency": (["The currency of {c} is {v}.", "{v} is the currency of {c}.", "{c} uses {v} as its currency.",
                  "People in {c} pay for things with {v}.", "The money used in {c} is {v}.",
                  "The official currency of {c} is {v}.", "Shops in {c} take payment in {v}.",
                  "Coins and banknotes of {v} are used in {c}."],
                 ["{poss} currency is {v}.", "Prices in {c} are written in {v}.",
                  "The official money of {c} is {v}."]),
    "sound": (["{a} {v}.", "{p} {sndb}.", "The sound {a} makes is called {asnd}.",
               "When {a} makes a noise, it {v}.", "You can hear {a} when it {v}.", "The {n} {v}.",
               "One sound that {a} makes is {asnd}."],
              ["The typical call of {a} is {asnd}.", "{p} are known to {sndb}.", "The noise made by {a} is {asnd}."]),
    "habitat": (["{a} lives {v}.", "{p} live {v}.", "Most {p} live {v}.", "{p} can be found {v}.",
                 "The {n} lives {v}.", "{p} are usually found {v}."],
                ["Many {p} make their homes {v}.", "You will usually find {p} {v}."]),
    "diet": (["{a} eats {v}.", "{p} eat {v}.", "The food of {a} is mainly {v}.", "{p} feed on {v}.",
              "The diet of {a} is {v}.", "The {n} eats {v}.", "Most of the food that {p} eat is {v}."],
             ["The diet of {a} is made up of {v}.", "{p} get their food by eating {v}."]),
    "legs": (["{a} has {v}.", "{p} have {v}.", "The body of {a} has {v}.", "Every {n} has {v}.",
              "The {n} has {v}."],
             ["{p} each have {v}.", "A healthy {n} has {v}."]),
    "class": (["{a} is {v}.", "{p} are {clsp}.", "The {n} is {v}.",
               "{a} belongs to the group of animals called {clsp}.", "{a} is a kind of {cls}."],
              ["Scientists classify the {n} as {v}.", "In biology, {p} are grouped with other {clsp}."]),
    "young": (["A baby {n} is called {v}.", "A young {n} is called {v}.", "The young of {a} is called {v}.",
               "Baby {p} are called {yp}.", "The baby of {a} is called {v}.", "{yp} are baby {p}."],
              ["When {a} has young, each baby is known as {v}.", "The word for a baby {n} is {y}."]),
    "colour": (["{f} is {v}.", "The colour of {f} is {v}.", "{f} is usually {v}.", "Most {p} {are} {v}.",
                "{f} has a {v} colour.", "{f} is {v} in colour."],
               ["{p} {are} typically {v}.", "The usual colour of {f} is {v}."]),
    "taste": (["{f} tastes {v}.", "The taste of {f} is {v}.", "{p} {tst} {v}.",
               "Many people say that {f} tastes {v}.", "{f} has a {v} taste."],
              ["The flavour of {f} is {v}.", "When eaten, {p} {tst} {v}."]),
    "kind": (["{f} is {v}.", "{f} is a kind of {kind}.", "Cooks treat {f} as {v}.",
              "In the kitchen, {f} is {v}.", "The {n} is {v}."],
             ["{f} is counted as {v}.", "Most people think of {f} as {v}."]),
    "use": (["{o} {is} used for {v}.", "People use {o} for {v}.", "The main use of {o} is {v}.",
             "{o} {is} useful for {v}.", "The {n} {is} used for {v}.", "You can use {o} for {v}."],
            ["{o} {is} made for {v}.", "The purpose of {o} is {v}.", "For {v}, people reach for {o}."]),
    "opposite": (["The opposite of {w} is {v}.", "{v} is the opposite of {w}.",
                  "The opposite of the word {w} is the word {v}.", "The word {w} is the opposite of {v}.",
                  "The reverse of {w} is {v}."],
                 ["{v} means the opposite of {w}.", "{w} and {v} are opposites."]),
    "add": (["{a} plus {b} equals {v}.", "The sum of {a} and {b} is {v}.", "Adding {a} and {b} gives {v}.",
             "If you add {b} to {a}, you get {v}.", "{a} and {b} make {v}.", "{a} plus {b} makes {v}.",
             "{v} is the sum of {a} and {b}."],
            ["{a} added to {b} is {v}.", "The total of {a} and {b} is {v}.",
             "Put {a} and {b} together and the result is {v}."]),
    "sub": (["{a} minus {b} equals {v}.", "Taking {b} away from {a} leaves {v}.",
             "If you subtract {b} from {a}, you get {v}.", "The difference between {a} and {b} is {v}.",
             "{a} take away {b} is {v}.", "{a} minus {b} is {v}."],
            ["{b} subtracted from {a} is {v}.", "Removing {b} from {a} leaves {v}."]),
    "mul": (["{a} times {b} equals {v}.", "{a} multiplied by {b} is {v}.", "The product of {a} and {b} is {v}.",
             "{a} groups of {b} make {v}.", "{a} times {b} is {v}.", "{a} multiplied by {b} equals {v}."],
            ["Multiplying {a} by {b} gives {v}.", "{a} lots of {b} is {v}."]),
    "day_after": (["The day after {d} is {v}.", "{v} comes after {d}.", "{v} is the day after {d}.",
                   "After {d} comes {v}.", "{v} follows {d}."],
                  ["{d} is followed by {v}.", "The next day after {d} is {v}."]),
    "day_before": (["The day before {d} is {v}.", "{v} comes before {d}.", "{v} is the day before {d}.",
                    "Before {d} comes {v}.", "{v} is just before {d}."],
                   ["{d} comes right after {v}.", "The previous day to {d} is {v}."]),
    "month_after": (["The month after {m} is {v}.", "{v} comes after {m}.", "{v} is the month after {m}.",
                     "After {m} comes {v}.", "{v} follows {m}."],
                    ["{m} is followed by {v}.", "The next month after {m} is {v}."]),
    "month_before": (["The month before {m} is {v}.", "{v} comes before {m}.", "{v} is the month before {m}.",
                      "Before {m} comes {v}.", "{v} is just before {m}."],
                     ["{m} comes right after {v}.", "The previous month to {m} is {v}."]),
    "month_days": (["{m} has {v} days.", "There are {v} days in {m}.", "{m} is {v} days long.",
                    "The month of {m} has {v} days.", "In {m} there are {v} days."],
                   ["{m} lasts for {v} days.", "A total of {v} days make up {m}."]),
    "month_order": (["The {ord} month of the year is {v}.", "{v} is the {ord} month of the year.",
                     "In the calendar, {v} is the {ord} month.", "The year's {ord} month is {v}."],
                    ["{v} comes {ord} in the list of months.", "Of the twelve months, {v} is the {ord}."]),
    "season_after": (["The season after {s} is {v}.", "{v} comes after {s}.", "{v} is the season after {s}.",
                      "After {s} comes {v}.", "{v} follows {s}."],
                     ["{s} is followed by {v}.", "The next season after {s} is {v}."]),
    "season_before": (["The season before {s} is {v}.", "{v} comes before {s}.", "{v} is the season before {s}.",
                       "Before {s} comes {v}.", "{v} is just before {s}."],
                      ["{s} comes right after {v}.", "The previous season to {s} is {v}."]),
    "planet_position": (["The {ord} planet from the Sun is {v}.", "{v} is the {ord} planet from the Sun.",
                         "Counting outward from the Sun, the {ord} planet is {v}.",
                         "The planet {v} is {ord} from the Sun."],
                        ["In order from the Sun, {v} comes {ord}.", "{v} orbits the Sun in {ord} place."]),
    "planet_order": (["{p} is the {v} planet from the Sun.", "The {v} planet from the Sun is {p}.",
                      "Counting outward from the Sun, {p} is the {v} planet.", "The planet {p} is {v} from the Sun."],
                     ["In order from the Sun, {p} comes {v}.", "{p} orbits the Sun in {v} place."]),
    "superlative": (["The {adj} {noun}{suf} is {v}.", "{v} is the {adj} {noun}{suf}.",
                     "Of all the {nouns}, {v} is the {adj}{suf}.", "The {adj} of all the {nouns}{suf} is {v}."],
                    ["Among the {nouns}, {v} is the {adj}{suf}.", "{v} holds the record as the {adj} {noun}{suf}."]),
    "shape_sides": (["{a} has {v} sides.", "Every {s} has {v} sides.", "{a} is a shape with {v} sides.",
                     "The {s} has {v} sides.", "There are {v} sides on {a}."],
                    ["The number of sides of {a} is {v}.", "{a} is a polygon with {v} straight sides."]),
    "shape_name": (["A shape with {n} sides is called {v}.", "{v} is a shape with {n} sides.",
                    "A flat shape with {n} straight sides is called {v}.", "{v} has {n} sides."],
                   ["Any shape that has {n} sides is {v}.", "The name for a shape with {n} sides is {v}."]),
    "units": (["There are {v} {things}{where}.", "{subj} has {v} {things}.", "{v} {things} make up {subj}.",
               "In {subj}, there are {v} {things}."],
              ["{subj} is made up of {v} {things}.", "The number of {things}{where} is {v}."]),
    "colour_mix": (["{a} and {b} make {v}.", "Mixing {a} and {b} makes {v}.",
                    "If you mix {a} paint with {b} paint, you get {v}.",
                    "When {a} and {b} are mixed together, the result is {v}.", "{a} mixed with {b} makes {v}."],
                   ["{v} can be made by mixing {a} and {b}.", "Painters combine {a} and {b} to get {v}."]),
    "body": (["People {verb} with their {v}.", "Humans use their {v} to {verb}.", "{ving} is done with {part_s}.",
              "Humans {verb} with their {v}.", "People use their {v} to {verb}."],
             ["A person uses {part_s} to {verb}.", "Without {part_s}, a person could not {verb}."]),
}

# Filler sentences that are true for every entity of a kind: (train phrasings, held-out phrasings).
FILLER = {
    "country": (["{C} is a country.", "{C} has its own flag and its own national anthem.",
                 "Many visitors travel to {c} each year.", "{cap} is a city with many streets, parks and buildings.",
                 "Children in {c} learn about the history of their country at school.",
                 "The people of {c} celebrate several national holidays each year.",
                 "Like other countries, {c} has a government and laws.",
                 "Roads connect {cap} with other towns in {c}.",
                 "Many books have been written about the history of {c}.",
                 "Farming, trade and tourism are part of the economy of {c}.",
                 "The weather in {c} changes from season to season.",
                 "Sport is popular with many people in {c}."],
                ["{C} is a member of the United Nations.", "Maps of {capcont} show {c} and its neighbours.",
                 "Travellers who visit {c} often spend time in {cap}.",
                 "The history of {c} goes back many hundreds of years."]),
    "city": (["{cap} is a city.", "Many people live and work in {cap}.", "{cap} has schools, hospitals and markets.",
              "Visitors to {cap} can see many old and new buildings.", "{cap} has many shops and restaurants.",
              "Buses and cars fill the roads of {cap}."],
             ["The streets of {cap} are busy during the day.", "{cap} is home to many museums."]),
    "animal": (["The {n} is an animal.", "People have studied {p} for a long time.",
                "{p} appear in many stories for children.", "There are pictures of {p} in many books about animals.",
                "{p} need water to live.", "Like all animals, {p} need food to grow.",
                "Children often learn about {p} at school.", "{p} are well known to many people."],
               ["Nature films often show {p}.", "Zoos and nature parks help people learn about {p}."]),
    "produce": (["{f} is a kind of food.", "People buy {p} at markets and shops.",
                 "{p} {are} often eaten as part of a healthy meal.", "{p} {are} grown by farmers in many countries.",
                 "{p} {are} grown from plants.", "Many people enjoy eating {p}."],
                ["Cooks use {p} in many recipes.", "{p} {are} sold fresh in many shops."]),
    "object": (["{o} {is} a useful object.", "{p} can be bought in many shops.", "People have used {p} for many years.",
                "Many homes and offices have {p}.", "{p} {pare} sold in many shops."],
               ["Factories around the world make {p}.", "Shops sell {p} in different shapes and sizes."]),
    "opposite": (["Opposite words are also called antonyms.", "Children often learn opposite words at school.",
                  "Many opposite words are short and common.", "Pairs of opposites help people describe the world.",
                  "Many stories use opposite words to compare things."],
                 ["A word and its opposite are often taught together.", "Dictionaries often list opposite words."]),
}


# Chance that a sentence about a fact uses the phrasing of the dialogue answer: in general text,
# and in the section of an article that is about that fact.
CANONICAL = 0.4
FOCUS = 0.7


class Speaker:
    """Turns facts into sentences with the phrasings of one split ('train' or 'heldout')."""

    def __init__(self, rng, split):
        self.rng = rng
        self.idx = 0 if split == "train" else 1

    def fact(self, fact, n=1, canonical=CANONICAL):
        """n sentences stating the fact, with distinct phrasings."""
        pool = FACT_SENTENCES[fact.ftype][self.idx]
        return [fact.fmt(t) for t in self._pick(pool, n, canonical if self.idx == 0 else 0.0)]

    def joined(self, facts, canonical=CANONICAL):
        """One sentence per fact; now and then two of them are joined with ", and"."""
        out = []
        for f in facts:
            s = self.fact(f, 1, canonical)[0]
            if out and self.rng.random() < 0.3 and out[-1].endswith(".") and "," not in out[-1]:
                first = s.split(" ", 1)[0]
                if first.lower() in _LOWERABLE or first.lower() in WORD_TO_NUM:
                    s = first.lower() + s[len(first):]
                    out[-1] = out[-1][:-1] + ", and " + s
                    continue
            out.append(s)
        return out

    def filler(self, kind, fields, n=1):
        pool = FILLER[kind][self.idx]
        return [cap1(t.format(**fields)) for t in self._pick(pool, n, 0.0)]

    def _pick(self, pool, n, canonical):
        n = min(n, len(pool))
        first = []
        if canonical and self.rng.random() < canonical:
            first = [pool[0]]
        rest = [t for t in pool if t not in first]
        return first + self.rng.sample(rest, n - len(first))


# =============================================================================
# Wiki corpus
# =============================================================================


class Doc:
    """One article in raw WikiText layout: a title, lead paragraphs and sections."""

    def __init__(self, title):
        self.title = title
        self.sections = [(None, [])]  # (heading, paragraphs); the first holds the lead

    def section(self, name):
        self.sections.append((name, []))

    def para(self, sentences):
        sentences = [s for s in sentences if s]
        if sentences:
            self.sections[-1][1].append(wikify(" ".join(sentences)))

    def merge(self, other):
        """Adds the section paragraphs of another draft of the same article (its lead is dropped,
        and so are paragraphs this article already has)."""
        for name, paras in other.sections[1:]:
            for mine, my_paras in self.sections:
                if mine == name:
                    my_paras.extend(p for p in paras if p not in my_paras)
                    break
            else:
                self.sections.append((name, list(paras)))

    def text(self):
        lines = [" \n", " = %s = \n" % wikify(self.title), " \n"]
        for name, paras in self.sections:
            if name is not None:
                lines += [" \n", " = = %s = = \n" % wikify(name), " \n"]
            lines += [" %s \n" % p for p in paras]
        return "".join(lines)


class Corpus:
    """All facts, indexed for the article builders."""

    def __init__(self, facts):
        self.by = {}
        for f in facts:
            self.by[(f.ftype, f.key)] = f
        self.facts = facts

    def get(self, ftype, key):
        return self.by.get((ftype, key))

    def of_type(self, ftype):
        return [f for f in self.facts if f.ftype == ftype]


def shuffled(rng, items):
    items = list(items)
    rng.shuffle(items)
    return items


def article_builders(corpus):
    """(name, builder) pairs; a builder takes (rng, speaker) and returns a Doc."""
    builders = []
    add = builders.append
    sup_by_article = {}
    for f in corpus.of_type("superlative"):
        title = [s for s in SUPERLATIVES if s[0] + " " + s[1] + s[3] == f.key][0][6]
        sup_by_article.setdefault(title, []).append(f)

    def sup_sentences(sp, title, canonical=0.4):
        out = []
        for f in sup_by_article.get(title, []):
            out += sp.fact(f, 1, canonical)
        return out

    # ---- countries -------------------------------------------------------
    for co in COUNTRIES:
        name = co[0]

        def country(rng, sp, name=name):
            fc = [corpus.get(t, name) for t in ("capital", "continent", "language", "currency")]
            cap, cont, lang, cur = fc
            fl = cap.fields
            doc = Doc(cap1(name[4:] if name.startswith("the ") else name))
            doc.para(sp.fact(cont, 1) + sp.fact(cap, 1, 0.8) + sp.fact(lang, 1) + sp.fact(cur, 1)
                     + sup_sentences(sp, doc_title(name)) + sp.filler("country", fl, 1))
            doc.section("Geography")
            doc.para(sp.fact(cont, 2, FOCUS) + sp.filler("country", fl, 1) + sp.fact(cap, 1))
            doc.section("Capital")
            doc.para(sp.fact(cap, 2, FOCUS) + sp.filler("city", fl, 1))
            doc.section("Language")
            doc.para(sp.fact(lang, 2, FOCUS) + sp.filler("country", fl, 1))
            doc.section("Economy")
            doc.para(sp.fact(cur, 2, FOCUS) + sp.filler("country", fl, 1))
            doc.para([sp.fact(f, 1)[0] for f in shuffled(rng, fc)])
            return doc

        add(("country:" + name, country))

        def city(rng, sp, name=name):
            cap = corpus.get("capital", name)
            fl = cap.fields
            doc = Doc(fl["cap"])
            doc.para(sp.fact(cap, 2) + ["%s is a city in %s." % (fl["cap"], fl["capcont"])]
                     + sp.filler("city", fl, 1))
            doc.section("Description")
            doc.para(sp.filler("city", fl, 1) + sp.fact(cap, 1) + sp.fact(corpus.get("language", name), 1)
                     + sp.fact(corpus.get("currency", name), 1))
            return doc

        add(("city:" + name, city))

    languages = []
    for co in COUNTRIES:
        if co[3] not in languages:
            languages.append(co[3])
    for lang in languages:
        def language(rng, sp, lang=lang):
            doc = Doc(lang + " language")
            members = [co[0] for co in COUNTRIES if co[3] == lang]
            doc.para(["%s is a language." % lang, "It is written and spoken by many people."]
                     + sp.fact(corpus.get("language", members[0]), 1))
            doc.section("Countries")
            for m in members:
                doc.para(sp.fact(corpus.get("language", m), 2 if len(members) < 4 else 1)
                         + sp.fact(corpus.get("continent", m), 1))
            return doc

        add(("language:" + lang, language))

    currencies = []
    for co in COUNTRIES:
        if co[4] not in currencies:
            currencies.append(co[4])
    for cur in currencies:
        def currency(rng, sp, cur=cur):
            members = [co[0] for co in COUNTRIES if co[4] == cur]
            f0 = corpus.get("currency", members[0])
            doc = Doc(f0.fields["curname"])
            doc.para(["%s is a currency." % cap1(cur), "It is used to pay for goods and services."]
                     + sp.fact(f0, 1))
            doc.section("Use")
            for m in members:
                doc.para(sp.fact(corpus.get("currency", m), 2 if len(members) < 4 else 1))
            return doc

        add(("currency:" + cur, currency))

    for cont in CONTINENTS:
        def continent(rng, sp, cont=cont):
            members = [co[0] for co in COUNTRIES if cont in co[2]]
            doc = Doc(cont)
            lead = ("Oceania is a region of the world that includes Australia and many islands."
                    if cont == "Oceania" else "%s is one of the seven continents." % cont)
            doc.para([lead] + sup_sentences(sp, cont) + ["There are many countries in %s." % cont])
            for title, ftype in (("Countries", "continent"), ("Capital cities", "capital"),
                                 ("Languages", "language"), ("Currencies", "currency")):
                doc.section(title)
                ms = shuffled(rng, members)
                for i in range(0, len(ms), 4):
                    doc.para(sp.joined([corpus.get(ftype, m) for m in ms[i:i + 4]]))
            return doc

        add(("continent:" + cont, continent))

    # ---- animals ---------------------------------------------------------
    for an in ANIMALS:
        name = an[0]

        def animal(rng, sp, name=name):
            fs = {t: corpus.get(t, name) for t in ("class", "legs", "diet", "habitat", "sound", "young")}
            row = [a for a in ANIMALS if a[0] == name][0]
            fl = animal_fields(row[0], row[1], row[2], row[3], row[4], row[6], row[8])
            doc = Doc(cap1(name))
            intro = sp.fact(fs["class"], 1, 0.8) + sup_sentences(sp, cap1(name)) + sp.filler("animal", fl, 1)
            for t in ("legs", "habitat", "diet"):
                if fs[t]:
                    intro += sp.fact(fs[t], 1)
            doc.para(intro)
            doc.section("Description")
            desc = sp.fact(fs["class"], 1, FOCUS) + sp.filler("animal", fl, 1)
            if fs["legs"]:
                desc += sp.fact(fs["legs"], 2, FOCUS)
            doc.para(desc)
            for t, title in (("habitat", "Habitat"), ("diet", "Diet"), ("sound", "Sounds"), ("young", "Young")):
                if fs[t]:
                    doc.section(title)
                    doc.para(sp.fact(fs[t], 3, FOCUS) + sp.filler("animal", fl, 1))
            return doc

        add(("animal:" + name, animal))

    def group_article(title, intro, ftype, per_para=4, section="Examples"):
        def build(rng, sp):
            doc = Doc(title)
            doc.para(intro)
            doc.section(section)
            fs = shuffled(rng, corpus.of_type(ftype))
            for i in range(0, len(fs), per_para):
                doc.para(sp.joined(fs[i:i + per_para]))
            return doc
        return build

    add(("group:sounds", group_article("Animal sounds", ["Animals make many different sounds.",
                                                          "People give each sound its own name."], "sound")))
    add(("group:young", group_article("Baby animals", ["The young of many animals have special names."], "young")))
    add(("group:habitat", group_article("Habitat", ["A habitat is the place where an animal lives.",
                                                     "Different animals live in different places."], "habitat")))
    add(("group:diet", group_article("Animal diet", ["Different animals eat different foods.",
                                                      "Some animals eat plants and some eat meat."], "diet")))
    add(("group:legs", group_article("Animal legs", ["Animals have different numbers of legs."], "legs")))
    for cls in ["mammal", "bird", "fish", "reptile", "amphibian", "insect", "arachnid", "mollusc"]:
        def class_article(rng, sp, cls=cls):
            doc = Doc(cap1(cls))
            doc.para(["%s are one of the main groups of animals." % cap1(CLASS_PLURALS[cls])])
            doc.section("Examples")
            ms = shuffled(rng, [f for f in corpus.of_type("class") if f.fields["cls"] == cls])
            for i in range(0, len(ms), 4):
                doc.para(sp.joined(ms[i:i + 4]))
            return doc
        add(("class:" + cls, class_article))

    # ---- fruit and vegetables --------------------------------------------
    for pr in PRODUCE:
        name = pr[0]

        def produce(rng, sp, name=name):
            fs = {t: corpus.get(t, name) for t in ("kind", "colour", "taste")}
            fl = produce_fields(name, [p for p in PRODUCE if p[0] == name][0][1])
            doc = Doc(cap1(name))
            intro = sp.filler("produce", fl, 1)
            for t in ("kind", "colour", "taste"):
                if fs[t]:
                    intro += sp.fact(fs[t], 1, 0.8)
            doc.para(intro)
            for t, title in (("colour", "Description"), ("taste", "Taste"), ("kind", "Food")):
                if fs[t]:
                    doc.section(title)
                    doc.para(sp.fact(fs[t], 3, FOCUS) + sp.filler("produce", fl, 1))
            if not fs["colour"] and not fs["taste"]:
                doc.section("Food")
                doc.para(sp.filler("produce", fl, 2))
            return doc

        add(("produce:" + name, produce))
    add(("group:fruit", group_article("Fruit and vegetables", ["Fruit and vegetables are important foods.",
                                                               "Some plants give fruit and some are eaten as vegetables."],
                                      "kind")))
    add(("group:colour", group_article("Colours of food", ["Fruit and vegetables come in many colours."], "colour")))
    add(("group:taste", group_article("Taste", ["Taste is one of the senses.",
                                                 "Foods can taste sweet, sour, bitter, salty or spicy."], "taste")))

    # ---- objects ---------------------------------------------------------
    for ob in OBJECTS:
        name = ob[0]

        def obj(rng, sp, name=name):
            f = corpus.get("use", name)
            doc = Doc(cap1(name))
            doc.para(sp.fact(f, 2, 0.8) + sp.filler("object", f.fields, 1))
            doc.section("Use")
            doc.para(sp.fact(f, 3, FOCUS) + sp.filler("object", f.fields, 1))
            return doc

        add(("object:" + name, obj))
    add(("group:objects", group_article("Household objects", ["Homes are full of useful objects.",
                                                              "Each object has its own use."], "use")))

    # ---- opposites -------------------------------------------------------
    for w, v, both in OPPOSITE_PAIRS:
        def opp(rng, sp, w=w, v=v, both=both):
            doc = Doc("%s and %s" % (cap1(w), v))
            fs = [corpus.get("opposite", w)]
            if both:
                fs.append(corpus.get("opposite", v))
            doc.para(["The words %s and %s have opposite meanings." % (w, v)] + sp.fact(fs[0], 1, 0.8)
                     + (sp.fact(fs[1], 1, 0.8) if both else []) + sp.filler("opposite", {}, 1))
            doc.section("Usage")
            doc.para(sum([sp.fact(f, 2, FOCUS) for f in fs], []) + sp.filler("opposite", {}, 1))
            return doc

        add(("opposite:" + w + v, opp))
    add(("group:opposites", group_article("Opposite (semantics)",
                                          ["An opposite is a word with a meaning that is the reverse of another word."],
                                          "opposite", 5)))

    # ---- arithmetic ------------------------------------------------------
    def arith_article(title, intro, ftype, section_fmt):
        def build(rng, sp):
            doc = Doc(title)
            doc.para(intro)
            for a in range(0, 11):
                fs = [f for f in corpus.of_type(ftype) if f.fields["a"] == num_word(a)]
                if not fs:
                    continue
                doc.section(section_fmt % num_word(a))
                for rep in range(2):
                    fs = shuffled(rng, fs) if rep else fs
                    for i in range(0, len(fs), 4):
                        doc.para(sp.joined(fs[i:i + 4], FOCUS))
            return doc
        return build

    add(("arith:add", arith_article("Addition", ["Addition is one of the basic operations of arithmetic.",
                                                 "The result of adding numbers is called the sum.",
                                                 "Adding zero to a number does not change it."],
                                    "add", "Adding to %s")))
    add(("arith:sub", arith_article("Subtraction", ["Subtraction is one of the basic operations of arithmetic.",
                                                    "The result of subtracting is called the difference.",
                                                    "Subtracting a number from itself gives zero."],
                                    "sub", "Subtracting from %s")))
    add(("arith:mul", arith_article("Multiplication", ["Multiplication is one of the basic operations of arithmetic.",
                                                       "The result of multiplying numbers is called the product.",
                                                       "Multiplying a number by one does not change it."],
                                    "mul", "The %s times table")))
    arith = corpus.of_type("add") + corpus.of_type("sub") + corpus.of_type("mul")
    results = sorted(set(WORD_TO_NUM[f.value] for f in arith))
    for n in results:
        def number(rng, sp, n=n):
            w = num_word(n)
            doc = Doc("%d (number)" % n)
            intro = ["%s is a number." % cap1(w), "It is written as %d in digits." % n]
            if n > 0:
                intro.append("%s comes after %s." % (cap1(w), num_word(n - 1)))
            if n < 100:
                intro.append("The number after %s is %s." % (w, num_word(n + 1)))
            intro.append("%s is %s number." % (cap1(w), "an even" if n % 2 == 0 else "an odd"))
            doc.para(intro)
            doc.section("In arithmetic")
            fs = shuffled(rng, [f for f in arith if f.value == w])
            for i in range(0, len(fs), 4):
                doc.para(sp.joined(fs[i:i + 4], FOCUS))
            return doc

        add(("number:%d" % n, number))

    # ---- calendar, planets, shapes, units, colours, body --------------------
    def week(rng, sp):
        doc = Doc("Week")
        doc.para(sp.fact(corpus.get("units", "days in a week"), 2) + ["The days of the week are %s." %
                                                                     (", ".join(DAYS[:-1]) + " and " + DAYS[-1])])
        doc.section("Order of the days")
        for d in DAYS:
            doc.para(sp.fact(corpus.get("day_after", d), 1) + sp.fact(corpus.get("day_before", d), 1))
        return doc
    add(("week", week))
    for d in DAYS:
        def day(rng, sp, d=d):
            doc = Doc(d)
            doc.para(["%s is a day of the week." % d] + sp.fact(corpus.get("day_after", d), 1, 0.8)
                     + sp.fact(corpus.get("day_before", d), 1, 0.8))
            doc.section("Position in the week")
            doc.para(sp.fact(corpus.get("day_after", d), 2, FOCUS) + sp.fact(corpus.get("day_before", d), 2, FOCUS))
            return doc
        add(("day:" + d, day))

    def year(rng, sp):
        doc = Doc("Year")
        doc.para(["A year is the time it takes Earth to travel once around the Sun.",
                  "Earth takes about 365.25 days to go around the Sun, so every fourth year is a leap year."])
        doc.section("Parts of a year")
        doc.para(sum([sp.fact(corpus.get("units", k), 1) for k in
                      ("days in a year", "months in a year", "weeks in a year", "seasons in a year")], []))
        doc.section("Months")
        for m, _ in MONTHS:
            doc.para(sp.fact(corpus.get("month_order", m), 1) + sp.fact(corpus.get("month_after", m), 1))
        doc.para(["February has twenty-eight days in most years and twenty-nine days in a leap year."])
        return doc
    add(("year", year))
    for m, days in MONTHS:
        def month(rng, sp, m=m, days=days):
            doc = Doc(m)
            keys = ["month_order", "month_after", "month_before"] + (["month_days"] if days else [])
            fs = [corpus.get(k, m) for k in keys]
            doc.para(["%s is a month of the year." % m] + sum([sp.fact(f, 1, 0.8) for f in fs], []))
            if not days:
                doc.para(["February has twenty-eight days in most years and twenty-nine days in a leap year.",
                          "It is the shortest month of the year."])
            doc.section("Calendar")
            doc.para(sum([sp.fact(f, 2, FOCUS) for f in fs], []))
            return doc
        add(("month:" + m, month))
    for s in SEASONS:
        def season(rng, sp, s=s):
            doc = Doc(cap1(s))
            fa, fb = corpus.get("season_after", s), corpus.get("season_before", s)
            doc.para(["%s is one of the four seasons of the year." % cap1(s)] + sp.fact(fa, 1, 0.8)
                     + sp.fact(fb, 1, 0.8))
            doc.section("Order of the seasons")
            doc.para(sp.fact(fa, 2, FOCUS) + sp.fact(fb, 2, FOCUS) + sp.fact(corpus.get("units", "seasons in a year"), 1))
            return doc
        add(("season:" + s, season))
    for i, p in enumerate(PLANETS):
        def planet(rng, sp, p=p):
            doc = Doc(p)
            fa, fb = corpus.get("planet_order", p), corpus.get("planet_position", p)
            doc.para(["%s is a planet in the Solar System." % p] + sp.fact(fa, 1, 0.8) + sup_sentences(sp, p))
            doc.section("Orbit")
            doc.para(sp.fact(fa, 2, FOCUS) + sp.fact(fb, 2, FOCUS) + ["Like the other planets, %s travels around the Sun." % p])
            return doc
        add(("planet:" + p, planet))

    def solar(rng, sp):
        doc = Doc("Solar System")
        doc.para(["The Solar System is made up of the Sun and everything that travels around it."]
                 + sp.fact(corpus.get("units", "planets in the Solar System"), 2))
        doc.section("Planets")
        for p in PLANETS:
            doc.para(sp.fact(corpus.get("planet_position", p), 1) + sp.fact(corpus.get("planet_order", p), 1))
        doc.section("Records")
        doc.para(sum([sp.fact(f, 1) for f in corpus.of_type("superlative")
                      if f.fields["noun"] in ("planet", "star")], []))
        return doc
    add(("solar", solar))
    for title in ("Pacific Ocean", "Mount Everest", "Blue whale", "Sun"):
        def record(rng, sp, title=title):
            doc = Doc(title)
            doc.para(sup_sentences(sp, title))
            doc.section("Records")
            doc.para(sup_sentences(sp, title, FOCUS) + sup_sentences(sp, title))
            return doc
        add(("record:" + title, record))

    def records(rng, sp):
        doc = Doc("World records in nature")
        doc.para(["Some places, animals and planets are famous for being the largest, the highest or the fastest."])
        for rep in range(2):
            doc.section(["Space", "Earth"][rep])
            fs = shuffled(rng, [f for f in corpus.of_type("superlative")
                                if (f.fields["noun"] in ("planet", "star")) == (rep == 0)])
            for i in range(0, len(fs), 3):
                doc.para(sp.joined(fs[i:i + 3], FOCUS))
        return doc
    add(("records", records))
    for s, n in SHAPES:
        def shape(rng, sp, s=s, n=n):
            doc = Doc(cap1(s))
            f = corpus.get("shape_sides", s)
            fn = corpus.get("shape_name", str(n))
            doc.para(["%s is a flat shape." % cap1(with_article(s))] + sp.fact(f, 1, 0.8)
                     + (sp.fact(fn, 1, 0.8) if fn else []))
            doc.section("Properties")
            doc.para(sp.fact(f, 2, FOCUS) + (sp.fact(fn, 2, FOCUS) if fn else []))
            return doc
        add(("shape:" + s, shape))

    def polygon(rng, sp):
        doc = Doc("Polygon")
        doc.para(["A polygon is a flat shape with straight sides."])
        doc.section("Names of polygons")
        for s, n in SHAPES:
            fn = corpus.get("shape_name", str(n))
            doc.para(sp.fact(corpus.get("shape_sides", s), 1) + (sp.fact(fn, 1) if fn else []))
        return doc
    add(("polygon", polygon))

    def units(rng, sp):
        doc = Doc("Units of time and measurement")
        doc.para(["People measure time, length and weight with units.",
                  "A kilometre is a little more than 0.6 miles."])
        for rep in range(3):
            fs = shuffled(rng, corpus.of_type("units"))
            doc.section(["Counting", "Common facts", "Summary"][rep])
            for i in range(0, len(fs), 4):
                doc.para(sp.joined(fs[i:i + 4]))
        return doc
    add(("units", units))
    for f in corpus.of_type("units"):
        def unit(rng, sp, f=f):
            doc = Doc(cap1(f.fields["subj"].split(" ", 1)[1] if f.fields["subj"].startswith(("a ", "an ", "the "))
                           else f.fields["subj"]) + " (" + f.fields["things"] + ")")
            doc.para(sp.fact(f, 2, 0.8))
            doc.section("Counting")
            doc.para(sp.fact(f, 2, FOCUS))
            return doc
        add(("unit:" + f.key, unit))

    def colour_mixing(rng, sp):
        doc = Doc("Colour mixing")
        doc.para(["Painters mix colours to make new colours.", "Red, yellow and blue are called primary colours."])
        for rep in range(3):
            doc.section(["Mixing paint", "Examples", "Other mixtures"][rep])
            fs = shuffled(rng, corpus.of_type("colour_mix"))
            for i in range(0, len(fs), 3):
                doc.para(sum([sp.fact(f, 1) for f in fs[i:i + 3]], []))
        return doc
    add(("colour_mixing", colour_mixing))
    for a, b, c in COLOUR_MIXES:
        def colour_art(rng, sp, a=a, b=b, c=c):
            doc = Doc("%s (colour)" % cap1(c))
            f1, f2 = corpus.get("colour_mix", a + "+" + b), corpus.get("colour_mix", b + "+" + a)
            doc.para(["%s is a colour." % cap1(c)] + sp.fact(f1, 1, 0.8) + sp.fact(f2, 1, 0.8))
            doc.section("Making %s" % c)
            doc.para(sp.fact(f1, 2, FOCUS) + sp.fact(f2, 2, FOCUS))
            return doc
        add(("colour:" + c, colour_art))

    def senses(rng, sp):
        doc = Doc("Human body")
        doc.para(["The human body has many parts, and each part has its own job."])
        for rep in range(2):
            doc.section(["Parts and their jobs", "Senses"][rep])
            fs = shuffled(rng, corpus.of_type("body"))
            for i in range(0, len(fs), 4):
                doc.para(sum([sp.fact(f, 1) for f in fs[i:i + 4]], []))
        return doc
    add(("senses", senses))
    for verb, ving, part, part_s in BODY:
        def organ(rng, sp, verb=verb, part=part):
            f = corpus.get("body", verb)
            doc = Doc(cap1(part_s_title(part)))
            doc.para(sp.fact(f, 2, 0.8))
            doc.section("Function")
            doc.para(sp.fact(f, 2, FOCUS))
            return doc
        add(("organ:" + verb, organ))
    return builders


WORD_TO_NUM = {num_word(i): i for i in range(101)}
# Sentence-initial words that may be lower-cased when two sentences are joined.
_LOWERABLE = {"the", "a", "an", "there", "people", "most", "many", "if", "when", "after", "before", "in",
              "every", "baby", "mixing", "adding", "taking", "humans", "counting", "you", "cooks", "of",
              "some", "one"}

_PART_TITLES = {"eyes": "eye", "ears": "ear", "noses": "nose", "tongues": "tongue", "brains": "brain",
                "teeth": "tooth", "legs": "leg", "lungs": "lung"}


def part_s_title(part):
    return _PART_TITLES[part]


def doc_title(country_name):
    return cap1(country_name[4:] if country_name.startswith("the ") else country_name)


def build_wiki(corpus, rng, split, target_bytes, drafts=1):
    """Articles in random order. For train, every article is drafted `drafts` times and the drafts
    are merged section by section (each draft adds new paragraphs); for the held-out splits, one
    draft per article, until target_bytes is reached."""
    builders = shuffled(rng, article_builders(corpus))
    sp = Speaker(rng, split)
    out, size = [], 0
    for name, build in builders:
        if split != "train" and size >= target_bytes:
            break
        doc = build(rng, sp)
        for _ in range(drafts - 1):
            doc.merge(build(rng, sp))
        text = doc.text()
        out.append(text)
        size += len(text.encode("utf-8"))
    return "".join(out)


# =============================================================================
# Dialogues
# =============================================================================


def choose_holdout(facts, rng):
    """Facts that never appear in train dialogues: a few whole entities plus ~8 % of each type."""
    held = set()
    groups = {}
    for f in facts:
        groups.setdefault(f.ftype, []).append(f)
    for names, n in (([co[0] for co in COUNTRIES], 4), ([a[0] for a in ANIMALS], 3), ([p[0] for p in PRODUCE], 3)):
        for ent in rng.sample(names, n):
            for f in facts:
                if f.group == ent and f.ftype not in ("opposite",):
                    held.add(f.fid)
    for ftype in QUESTIONS:
        fs = [f for f in groups[ftype] if f.fid not in held]
        k = int(round(len(fs) * 0.08))
        if k == 0 and len(fs) >= 4:
            k = 1
        for f in rng.sample(fs, k):
            held.add(f.fid)
    return held


class DialogueMaker:
    def __init__(self, facts, rng):
        self.facts = facts
        self.rng = rng
        self.by_type = {}
        for f in facts:
            self.by_type.setdefault(f.ftype, []).append(f)

    def question(self, fact, tidx):
        train_q, test_q = QUESTIONS[fact.ftype]
        return fact.fmt((train_q + test_q)[tidx])

    def reject(self, fact, off_topic_pool):
        r = self.rng.random()
        if r < 0.65 and fact.wrongs:
            return fact.wrong_answer(self.rng)
        if r < 0.80:
            return self.rng.choice(UNHELPFUL)
        if r < 0.94:
            while True:
                other = self.rng.choice(off_topic_pool)
                if other.ftype != fact.ftype:
                    return other.answer()
        return self.rng.choice(CHITCHAT)


def dialogue_text(turns):
    return "".join("\n\nHuman: %s\n\nAssistant: %s" % (q, a) for q, a in turns)


def make_dialogues(facts, held, rng):
    dm = DialogueMaker(facts, rng)
    train_facts = [f for f in facts if f.fid not in held]
    held_facts = [f for f in facts if f.fid in held]
    train_by_type = {}
    for f in train_facts:
        train_by_type.setdefault(f.ftype, []).append(f)

    # (fact, template index) for every train final turn
    items = []
    for f in train_facts:
        n_train = len(QUESTIONS[f.ftype][0])
        n_type = len(train_by_type[f.ftype])
        k = 3 if n_type >= 40 else (4 if n_type >= 12 else n_train)
        for t in rng.sample(range(n_train), min(k, n_train)):
            items.append((f, t))
    rng.shuffle(items)

    seen_turns = set()  # (fid, phrasing) pairs asked anywhere in train

    def prior_turns(pool_all, final, n, same_entity_ok=True):
        turns = []
        used = {final.fid}
        for _ in range(n):
            if same_entity_ok and rng.random() < 0.35:
                cands = [f for f in pool_all if f.group == final.group and f.fid not in used]
                if cands:
                    f = rng.choice(cands)
                else:
                    f = rng.choice(pool_all)
            else:
                f = rng.choice(pool_all)
            if f.fid in used:
                continue
            used.add(f.fid)
            t = rng.randrange(len(QUESTIONS[f.ftype][0]))
            turns.append((f, ("q", t), dm.question(f, t), f.answer()))
        return turns

    def followup_prev(pool_by_type, final):
        cands = [f for f in pool_by_type.get(final.ftype, []) if f.fid != final.fid and f.mention() != final.mention()]
        return rng.choice(cands) if cands else None

    def build(final, phr, qtext, pool_by_type, pool_all, mode, followup_templates):
        """mode: 'single', 'multi' or 'follow'. Returns (turn list, used (fid, phrasing) pairs)."""
        turns = []
        if mode == "follow":
            prev = followup_prev(pool_by_type, final)
            if prev is None or final.mention() is None:
                mode = "multi"
            else:
                if rng.random() < 0.3:
                    turns += prior_turns(pool_all, final, 1, same_entity_ok=False)
                t = rng.randrange(len(QUESTIONS[prev.ftype][0]))
                turns.append((prev, ("q", t), dm.question(prev, t), prev.answer()))
                ft = rng.randrange(len(followup_templates))
                phr = ("f", followup_templates[ft])
                qtext = cap1(followup_templates[ft].format(m=final.mention()))
        if mode == "multi":
            turns += prior_turns(pool_all, final, 1 if rng.random() < 0.6 else 2)
        turns.append((final, phr, qtext, final.answer()))
        return turns

    def encode(turns, final, off_pool):
        prompt_turns = [(q, a) for _, _, q, a in turns[:-1]]
        q_last = turns[-1][2]
        chosen = dialogue_text(prompt_turns + [(q_last, final.answer())])
        rejected_answer = dm.reject(final, off_pool)
        while rejected_answer == final.answer():
            rejected_answer = dm.reject(final, off_pool)
        rejected = dialogue_text(prompt_turns + [(q_last, rejected_answer)])
        return {"chosen": chosen, "rejected": rejected}

    def pick_mode():
        r = rng.random()
        if r < 0.10:
            return "follow"
        if r < 0.26:
            return "multi"
        return "single"

    train_rows, train_keys, train_prompts = [], set(), set()
    for f, t in items:
        mode = pick_mode()
        turns = build(f, ("q", t), dm.question(f, t), train_by_type, train_facts, mode, FOLLOWUPS[0])
        row = encode(turns, f, train_facts)
        if row["chosen"] in train_prompts:
            continue
        train_prompts.add(row["chosen"])
        for tf, phr, _, _ in turns:
            seen_turns.add((tf.fid, phr))
        train_rows.append(row)

    # Test: every held-out fact once (any phrasing), plus train facts asked with a test-only phrasing.
    test_rows = []
    test_items = []
    for f in held_facts:
        n_all = len(QUESTIONS[f.ftype][0]) + len(QUESTIONS[f.ftype][1])
        test_items.append((f, rng.randrange(n_all)))
    n_new_phrasing = max(len(held_facts), 120)
    per_type = {}
    for f in train_facts:
        per_type.setdefault(f.ftype, []).append(f)
    # spread the held-out-phrasing items over the fact types
    types = list(QUESTIONS)
    chosen_new = []
    while len(chosen_new) < n_new_phrasing:
        for ftype in types:
            cands = [f for f in per_type[ftype] if f not in chosen_new]
            if cands and len(chosen_new) < n_new_phrasing:
                chosen_new.append(rng.choice(cands))
    for f in chosen_new:
        test_items.append((f, len(QUESTIONS[f.ftype][0]) + rng.randrange(len(QUESTIONS[f.ftype][1]))))
    rng.shuffle(test_items)
    all_followups = FOLLOWUPS[0] + FOLLOWUPS[1]
    test_stats = {"held_out_fact": 0, "held_out_phrasing": 0}
    for f, t in test_items:
        mode = pick_mode()
        held_fact = f.fid in held
        fups = all_followups if held_fact else FOLLOWUPS[1]
        turns = build(f, ("q", t), dm.question(f, t), train_by_type, train_facts, mode, fups)
        final_fid, final_phr = turns[-1][0].fid, turns[-1][1]
        if (final_fid, final_phr) in seen_turns:
            raise AssertionError("test combination also in train: %s %s" % (final_fid, final_phr))
        test_rows.append(encode(turns, f, train_facts))
        test_stats["held_out_fact" if held_fact else "held_out_phrasing"] += 1
    return train_rows, test_rows, test_stats


# =============================================================================
# Main
# =============================================================================


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def write_jsonl(path, rows):
    write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def main():
    facts = build_facts()
    ids = [f.fid for f in facts]
    if len(ids) != len(set(ids)):
        raise AssertionError("duplicate fact ids")
    corpus = Corpus(facts)

    rng = random.Random(SEED)
    held = choose_holdout(facts, random.Random(SEED + 1))
    train_rows, test_rows, test_stats = make_dialogues(facts, held, random.Random(SEED + 2))

    # Each extra draft of the articles adds new paragraphs; pick the number of drafts that reaches
    # the target size, from the sizes with one and with two drafts.
    s1 = len(build_wiki(corpus, random.Random(SEED + 3), "train", 0, drafts=1).encode("utf-8"))
    s2 = len(build_wiki(corpus, random.Random(SEED + 3), "train", 0, drafts=2).encode("utf-8"))
    drafts = max(1, 1 + int(round((WIKI_TRAIN_TARGET - s1) / float(s2 - s1))))
    wiki_train = build_wiki(corpus, rng, "train", 0, drafts=drafts)
    heldout_target = int(len(wiki_train.encode("utf-8")) * WIKI_HELDOUT_FRACTION)
    wiki_valid = build_wiki(corpus, random.Random(SEED + 4), "heldout", heldout_target)
    wiki_test = build_wiki(corpus, random.Random(SEED + 5), "heldout", heldout_target)

    write_text(os.path.join(HERE, "wikitext", "wiki.train.raw"), wiki_train)
    write_text(os.path.join(HERE, "wikitext", "wiki.valid.raw"), wiki_valid)
    write_text(os.path.join(HERE, "wikitext", "wiki.test.raw"), wiki_test)
    write_jsonl(os.path.join(HERE, "dialogues", "train.jsonl"), train_rows)
    write_jsonl(os.path.join(HERE, "dialogues", "test.jsonl"), test_rows)

    multi = sum(1 for r in train_rows if r["chosen"].count("\n\nHuman: ") > 1)
    print("facts: %d (%d held out of train dialogues)" % (len(facts), len(held)))
    print("wiki: train %d bytes (%d drafts per article), valid %d, test %d" % (
        len(wiki_train.encode()), drafts, len(wiki_valid.encode()), len(wiki_test.encode())))
    print("dialogues: train %d (%d multi-turn), test %d (%d held-out facts, %d held-out phrasings)" % (
        len(train_rows), multi, len(test_rows), test_stats["held_out_fact"], test_stats["held_out_phrasing"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
