#!/usr/bin/env python3
"""Builds the chat-template fixtures in tests/data/chat from the pinned Python stack.

Run with the reference environment (scripts/setup-python.sh prints it):

    $(scripts/setup-python.sh)/bin/python tests/data/make_chat_fixtures.py

It writes:
  chat/model/tokenizer.json        the tiny Qwen2 fixture tokenizer with the special
                                   tokens the templates use added
  chat/model/tokenizer_config.json its special tokens and a chat template (qwen2_marked)
  chat/dialogues.json              the conversations the tests render
  chat/reference.json              for every template x dialogue x add_generation_prompt:
                                   the text, ids and assistant masks transformers'
                                   apply_chat_template gives (or the error it raises)
  chat/reference_qwen_real.json    the same for the real Qwen tokenizer (when the
                                   shared fixture is there)
  chat/jinja_cases.json            small templates and what Jinja2, set up the way
                                   transformers sets it up, renders from them
  chat/offsets.json                the offset mapping (in characters) transformers' tokenizers
                                   give for texts with special tokens, NFC, emoji, spaces

The templates themselves (chat/templates/*.jinja) are written by hand after the
documented formats of their model families; this script only reads them.
"""

import json
import os
import sys
from pathlib import Path

import jinja2
import tokenizers
import transformers
from tokenizers import AddedToken, Tokenizer
from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import _compile_jinja_template, _render_with_assistant_indices

HERE = Path(__file__).resolve().parent
CHAT = HERE / "chat"
BASE_TOKENIZER = HERE / "fixtures" / "models" / "tiny-qwen2" / "tokenizer.json"
REAL_QWEN = Path(os.environ.get("LORALAB_QWEN_TOKENIZER", HERE.parent.parent / ".." / "shared" / "fixtures" / "qwen-tokenizer" / "tokenizer.json"))

# The special tokens of the model families the templates come from.
ADDED = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<s>", "</s>", "<bos>", "<eos>",
         "<start_of_turn>", "<end_of_turn>", "<|system|>", "<|user|>", "<|assistant|>"]
# As in Phi-3's tokenizer, <|end|> also takes the whitespace after it.
ADDED_RSTRIP = ["<|end|>"]

# name: (file, variables passed to apply_chat_template, the marked twin it must render like)
TEMPLATES = {
    "qwen2": ("qwen2.jinja", {}, "qwen2_marked"),
    "qwen2_marked": ("qwen2_marked.jinja", {}, None),
    "qwen2_marked_last": ("qwen2_marked_last.jinja", {}, None),
    "llama3": ("llama3.jinja", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}, "llama3_marked"),
    "llama3_marked": ("llama3_marked.jinja", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}, None),
    "llama31": ("llama31.jinja", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "date_string": "01 Mar 2025"}, None),
    "default_system_loop": ("default_system_loop.jinja", {"eos_token": "</s>", "date_string": "Monday"}, "default_system_loop_marked"),
    "default_system_loop_marked": ("default_system_loop_marked.jinja", {"eos_token": "</s>", "date_string": "Monday"}, None),
    "mistral": ("mistral.jinja", {"bos_token": "<s>", "eos_token": "</s>"}, None),
    "gemma": ("gemma.jinja", {"bos_token": "<bos>", "eos_token": "<eos>"}, None),
    "phi3": ("phi3.jinja", {"eos_token": "<|endoftext|>"}, None),
    "zephyr": ("zephyr.jinja", {"eos_token": "</s>"}, None),
    "smollm": ("smollm.jinja", {}, None),
}

DIALOGUES = [
    {"name": "one_turn", "messages": [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."}]},
    {"name": "system_two_turns", "messages": [
        {"role": "system", "content": "You answer in one short sentence."},
        {"role": "user", "content": "Name a primary colour."},
        {"role": "assistant", "content": "Red is a primary colour."},
        {"role": "user", "content": "And another?"},
        {"role": "assistant", "content": "Blue is another one."}]},
    {"name": "unicode_three_answers", "messages": [
        {"role": "user", "content": "  Café or cafe\u0301?  "},
        {"role": "assistant", "content": "Both spell café 😀 — one composed, one not.\n"},
        {"role": "user", "content": "日本語で？"},
        {"role": "assistant", "content": "  はい、日本語です。"},
        {"role": "user", "content": "Thanks 👍🏽"},
        {"role": "assistant", "content": "You are welcome!"}]},
    {"name": "empty_contents", "messages": [
        {"role": "system", "content": ""},
        {"role": "user", "content": ""},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "Say something."},
        {"role": "assistant", "content": "Something."}]},
    {"name": "special_text_in_content", "messages": [
        {"role": "user", "content": "Write <|im_end|> and a list:\n- a\n- b"},
        {"role": "assistant", "content": "<|im_end|>\n- a\n- b\n\n```\ncode\n```"}]},
    {"name": "ends_with_user", "messages": [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "How are you?"}]},
]


def build_tokenizer(path_out):
    tok = Tokenizer.from_file(str(BASE_TOKENIZER))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ADDED] +
                           [AddedToken(t, special=True, normalized=False, rstrip=True) for t in ADDED_RSTRIP])
    path_out.mkdir(parents=True, exist_ok=True)
    tok.save(str(path_out / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": 4096,
        "chat_template": (CHAT / "templates" / "qwen2_marked.jinja").read_text(encoding="utf-8"),
    }
    (path_out / "tokenizer_config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def mask_string(mask):
    return "".join(str(m) for m in mask)


def reference_cases(tokenizer, templates, dialogues):
    cases = []
    texts = {}
    for name, (source, variables, _twin) in templates.items():
        for dialogue in dialogues:
            for agp in (False, True):
                case = {"template": name, "dialogue": dialogue["name"], "add_generation_prompt": agp}
                marked = "{% generation" in source or "{%- generation" in source
                try:
                    text = tokenizer.apply_chat_template(dialogue["messages"], chat_template=source, tokenize=False,
                                                         add_generation_prompt=agp, **variables)
                    out = tokenizer.apply_chat_template(dialogue["messages"], chat_template=source, tokenize=True,
                                                        return_dict=True, return_assistant_tokens_mask=marked,
                                                        add_generation_prompt=agp, **variables)
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = str(e)
                    cases.append(case)
                    continue
                ids = list(out["input_ids"])
                assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
                case["text"] = text
                case["ids"] = ids
                if marked:
                    case["assistant_mask"] = mask_string(out["assistant_masks"])
                texts[(name, dialogue["name"], agp)] = text
                cases.append(case)
    # A twin must render exactly like its marked template, or comparing their masks means nothing.
    for name, (_source, _variables, twin) in templates.items():
        if twin:
            for dialogue in dialogues:
                for agp in (False, True):
                    assert texts.get((name, dialogue["name"], agp)) == texts.get((twin, dialogue["name"], agp)), (name, dialogue["name"])
    return cases


def jinja_cases():
    """Small templates over a fixed set of variables, rendered by transformers' Jinja environment."""
    variables = {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi \"x\""},
                     {"role": "assistant", "content": "  yo  "}],
        "m": {"role": "user", "content": "hi"},
        "n": 7, "f": 2.5, "flag": True, "nothing": None, "words": ["b", "A", "c"],
    }
    templates = [
        # whitespace control, trim_blocks and lstrip_blocks
        "a\n  {% if true %}\n  x\n  {% endif %}\nb",
        "a\n  {%- if true %}\n  x\n  {%+ endif %}\nb",
        "  {% if true %}x{% endif %}  \n{# c #}\n  {#- d -#}  y\n",
        "{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n",
        "{{ 'a' -}}   \n  b {{- 'c' }}\n",
        "x {%- raw %} {{ y }} {% endraw -%} z",
        "{% raw %}\n  {{ y }}\n  {% endraw %}\nq",
        "line1\r\nline2\rline3\n\n",
        "\t{% if true %}\t\n{% endif %}",
        "{% if true -%}\n\n  x  \n\n{%- endif %}",
        "{{ 1 }}\n{% if true %}\n    {{ 2 }}\n{% endif %}\n",
        # literals, printing and Python's arithmetic
        "{{ [1, 'a', none, true, 1.5, {'k': [1]}] }} {{ (1, 2) }} {{ (1,) }}",
        "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 1e-5 }} {{ 0.1 + 0.2 }} {{ 2 ** 10 }} {{ -2 ** 2 }}",
        "{{ 3.0 }} {{ 1e20 }} {{ 1e16 }} {{ 123456789012345678.0 }} {{ 2.5e-7 }} {{ 1_000 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}",
        "{{ 'a' ~ none ~ 1 ~ true ~ nothing ~ undefined_name }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1, 2] + [3] }}",
        "{{ \"it's\" }} {{ ['it\\'s', 'a\"b', 'c\\nd', 'e\\tf'] }} {{ '\\x41\\u00e9\\U0001F600\\101\\q' }} {{ \"a\" 'b' }}",
        # comparison, membership, logic, conditional expressions
        "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1] == [1] }} {{ (1, 2) == [1, 2] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}",
        "{{ 'ab' in 'cabd' }} {{ 1 in [1, 2] }} {{ 'role' in m }} {{ 'x' not in m }} {{ 'x' in undefined_name }}",
        "{{ 1 and 'x' }} {{ 0 or 'y' }} {{ [] or nothing }} {{ not n }} {{ 'x' if false }}|{{ 'x' if n > 3 else 'y' }}",
        # attribute and item access, undefined values, slices
        "{{ m.content }} {{ m['role'] }} {{ m.missing }}|{{ m.missing is defined }} {{ nothing.x }}|{{ m.content.x }}|",
        "{{ messages[0].role }} {{ messages[-1]['content'] }} {{ messages | length - 1 }} {{ (messages | first).role }}",
        "{{ 'abc'[1:] }} {{ 'abc'[::-1] }} {{ [1, 2, 3][-1] }} {{ 'é😀b'[1] }} {{ 'aé😀b'[1:3] }} {{ [1, 2, 3][:-1] }} {{ 'abcdef'[1:5:2] }}",
        # string methods
        "{{ ' a b '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ''.split() }}",
        "{{ '  x  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nhi'.lstrip('\\n') }}|{{ 'abc '.rstrip() }}|",
        "{{ 'Hello'.startswith(('He', 'x')) }} {{ 'Hello'.endswith('lo') }} {{ 'Hello'.startswith('He', 1) }} {{ 'ab'.replace('', '-') }}",
        "{{ 'abcab'.find('b') }} {{ 'abcab'.rfind('b') }} {{ 'abcab'.count('ab') }} {{ '-'.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }}",
        "{{ 'hello world'.title() }} {{ \"they're\".title() }} {{ 'hELLO'.capitalize() }} {{ 'Straße'.upper() }} {{ 'ÀB'.lower() }}",
        "{{ m.get('role') }} {{ m.get('zz', 'd') }} {{ m.get('zz') }} {{ m.items() | list }} {{ m.keys() | list }} {{ m.values() | list }}",
        # filters
        "{{ 'hello world' | capitalize }} {{ 'HeLLo' | lower }} {{ 'a' | upper }} {{ 'hello-world(x)' | title }} {{ '  t  ' | trim }}",
        "{{ [1, 2] | join(', ') }} {{ words | first }} {{ 'abc' | last }} {{ nothing | default('d') }} {{ '' | default('d', true) }} {{ undefined_name | default('u') }}",
        "{{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ messages | rejectattr('role', '==', 'user') | map(attribute='role') | list }}",
        "{{ messages | map(attribute='role') | join(',') }} {{ [1, 2, 3] | select('odd') | list }} {{ [1, 2, 3] | reject('odd') | list }}",
        "{{ {'b': 1, 'a': 2} | items | list }} {{ {'b': 1, 'A': 2} | dictsort }} {{ words | sort }} {{ words | sort(reverse=true) }} {{ [3, 1] | max }}",
        "{{ 5 | string }} {{ [1] | string }} {{ 'x' | int }} {{ '3' | int }} {{ 3.7 | int }} {{ '3.5' | float }} {{ 2.567 | round(2) }} {{ -3 | abs }}",
        "{{ 'a\\nb' | indent }} {{ 'a\\n\\nb' | indent(2, true) }} {{ 'aaa' | replace('a', 'bb', 2) }} {{ [1, 1, 2] | unique | list }} {{ [1, 2] | sum }}",
        "{{ m | tojson }} {{ messages[1].content | tojson }} {{ 'é\\u2028\\u0001' | tojson }} {{ [1, 2.0, nothing, true] | tojson }}",
        "{{ {'a': [1, {'b': 2}], 'c': {}} | tojson(indent=2) }} {{ {'z': 1, 'a': 2} | tojson(sort_keys=true) }}",
        "{{ '%s and %d%%' | format('a', 3) }} {{ '%.2f' % 3.14159 }} {{ '%s-%s' % ('a', 'b') }} {{ 'hello world foo' | wordcount }}",
        "{{ '<a>&' | e }} {{ words | reverse | list }} {{ 'abc' | reverse }} {{ words | length }} {{ 'é😀' | length }}",
        # tests
        "{{ 'a' is string }} {{ 1 is number }} {{ true is number }} {{ {} is mapping }} {{ [] is sequence }} {{ 'a' is sequence }} {{ nothing is none }}",
        "{{ undefined_name is defined }} {{ undefined_name is sequence }} {{ undefined_name is iterable }} {{ 1 is iterable }} {{ true is integer }}",
        "{{ 1.5 is float }} {{ false is false }} {{ 0 is false }} {{ 3 is odd }} {{ 3 is divisibleby 3 }} {{ 2 is in [1, 2] }} {{ 'ab' is lower }}",
        # statements: loops, scoping, namespaces, macros, filter blocks
        "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}",
        "{% for i in [1, 2] %}{% if i == 1 %}{% set y = 5 %}{% endif %}{{ y }}{% endfor %}",
        "{% set ns = namespace(a=1) %}{% for i in [1, 2, 3] %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}",
        "{% for x in [1, 2, 3] if x != 2 %}{{ loop.index }}/{{ loop.length }}{{ loop.last }}{{ loop.first }}{{ loop.revindex }};{% endfor %}",
        "{% for x in [] %}a{% else %}empty{% endfor %} {% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %}",
        "{% for x in 'ab' %}{{ loop.cycle('o', 'e') }}{{ loop.previtem }}{{ loop.nextitem }}{% endfor %}",
        "{% for x in [1, 2, 3] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}",
        "{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set s %}in{{ n }}{% endset %}[{{ s }}]",
        "{% macro f(x, y='d') %}<{{ x }}{{ y }}>{% endmacro %}{{ f(1) }}{{ f(1, y=2) }}{% for i in range(3) %}{{ f(i) }}{% endfor %}",
        "{% filter upper %}shout {{ n }}{% endfilter %} {% filter trim | replace('a', 'o') %}  banana  {% endfilter %}",
        "{{ range(2, -3, -1) | list }} {{ range(3) | list }} {{ dict(a=1, b=2) }} {{ namespace(a=1).a }}",
        "{% generation %}abc{% endgeneration %}d{% for i in [1, 2] %}{% generation %}{{ i }}x{% endgeneration %}{% endfor %}",
        "{% set s %}in{% generation %}gg{% endgeneration %}{% endset %}pre{{ s }}",
        # errors Jinja raises while rendering
        "{{ raise_exception('no!') }}",
        "{{ 1 < 'a' }}", "{{ 'a' + 1 }}", "{{ undefined_name.x }}", "{{ undefined_name + 1 }}", "{{ 1 in 'abc' }}", "{{ 3 // 0 }}",
    ]
    cases = []
    for template in templates:
        case = {"template": template}
        try:
            compiled = _compile_jinja_template(template)
            v = dict(variables)
            text, spans = _render_with_assistant_indices(compiled, v.pop("messages"), None, None, False, **v)
            case["text"] = text
            # transformers counts characters; the C++ side counts bytes
            case["spans"] = [[len(text[:a].encode()), len(text[:b].encode())] for a, b in spans]
        except Exception as e:  # the template errors out: the C++ side must too
            case["error"] = "%s: %s" % (type(e).__name__, e)
        cases.append(case)
    return {"variables": variables, "cases": cases}


# Marked templates that meet transformers' edge cases, rendered with the NeoX
# fixture tokenizer: blocks that begin or end inside a token ("Ġ" carries the
# space before a word); empty blocks, which mark the token holding the
# character before them when that token also holds the one after; a block
# in the first token, which marks to the end; a block whose span lies past
# the text.
QUIRK_TEMPLATES = {
    "leading_space": "{% for m in messages %}{{ m.role }}:{% if m.role == 'assistant' %}{% generation %} {{ m.content }}"
                     "{% endgeneration %}{% else %} {{ m.content }}{% endif %}\n{% endfor %}",
    "no_space": "{% for m in messages %}{{ m.role }}: {% if m.role == 'assistant' %}{% generation %}{{ m.content }}"
                "{% endgeneration %}{% else %}{{ m.content }}{% endif %}\n{% endfor %}",
    "empty_blocks": "{% for m in messages %}{{ m.role }}:{% generation %}{% endgeneration %}{{ m.content }}|{% endfor %}",
    "first_token": "{% generation %}A{% endgeneration %}{% for m in messages %} {{ m.content }}{% endfor %}",
    # A block inside a {% set %} that is never written: its span lies past the text.
    "unwritten_block": "{% for m in messages %}{{ m.content }}{% set s %}{% generation %}{{ m.content * 3 }}"
                       "{% endgeneration %}{% endset %}{% endfor %}",
}


def quirk_cases():
    tokenizer = AutoTokenizer.from_pretrained(str(HERE / "fixtures" / "models" / "tiny-gpt-neox"))
    cases = []
    for name, source in QUIRK_TEMPLATES.items():
        for dialogue in DIALOGUES[:3]:
            out = tokenizer.apply_chat_template(dialogue["messages"], chat_template=source, tokenize=True, return_dict=True,
                                                return_assistant_tokens_mask=True)
            text = tokenizer.apply_chat_template(dialogue["messages"], chat_template=source, tokenize=False)
            cases.append({"name": name, "template": source, "dialogue": dialogue["name"], "text": text,
                          "ids": list(out["input_ids"]), "assistant_mask": mask_string(out["assistant_masks"])})
    return cases


OFFSET_TEXTS = [
    "héllo <|im_start|>wörld 😀!", "Hello world", "  two  spaces\n\nnewlines\r\n", "e\u0301 cafe\u0301 ñ n\u0303",
    "한국어 \u1100\u1161\u11a8 test", "a<|im_end|>\n<|im_start|>assistant\n", " ", "tabs\tand\u00a0nbsp",
    "日本語のテキスト", "emoji 👍🏽 family 👨\u200d👩\u200d👧", "<|endoftext|><|endoftext|>", "1234567 numbers 3.14",
    "\ufb01 ligature \u212b \u00c5", "<|end|>  \n<|user|>\nx", "Ġ literal and  \u3000 wide space",
]


def offsets_reference(model_dirs):
    """The offset mapping transformers' tokenizers give (the masks are made from it)."""
    out = {}
    for name, model_dir in model_dirs.items():
        tok = AutoTokenizer.from_pretrained(str(model_dir))
        rows = []
        for text in OFFSET_TEXTS:
            e = tok(text, add_special_tokens=False, return_offsets_mapping=True)
            rows.append({"text": text, "ids": list(e["input_ids"]), "offsets": [list(o) for o in e["offset_mapping"]]})
        out[name] = rows
    return out


def main():
    CHAT.mkdir(exist_ok=True)
    model_dir = CHAT / "model"
    build_tokenizer(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    # The template sees exactly the special tokens tokenizer_config.json names.
    assert tokenizer.special_tokens_map == {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}, tokenizer.special_tokens_map

    templates = {name: ((CHAT / "templates" / file).read_text(encoding="utf-8"), variables, twin)
                 for name, (file, variables, twin) in TEMPLATES.items()}
    (CHAT / "dialogues.json").write_text(json.dumps(DIALOGUES, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    versions = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__, "jinja2": jinja2.__version__}
    reference = {
        "versions": versions,
        "templates": {name: {"file": file, "variables": variables, "marked_twin": twin}
                      for name, (file, variables, twin) in TEMPLATES.items()},
        "cases": reference_cases(tokenizer, templates, DIALOGUES),
        "quirks": quirk_cases(),
    }
    (CHAT / "reference.json").write_text(json.dumps(reference, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    offset_tokenizers = {"chat_model": model_dir, "tiny_gpt_neox": HERE / "fixtures" / "models" / "tiny-gpt-neox"}
    if REAL_QWEN.exists():
        offset_tokenizers["qwen_real"] = REAL_QWEN.parent
    (CHAT / "offsets.json").write_text(json.dumps(offsets_reference(offset_tokenizers), ensure_ascii=False,
                                                  separators=(",", ":")) + "\n", encoding="utf-8")
    (CHAT / "jinja_cases.json").write_text(json.dumps(jinja_cases(), indent=0, ensure_ascii=False) + "\n", encoding="utf-8")

    if REAL_QWEN.exists():
        real = AutoTokenizer.from_pretrained(str(REAL_QWEN.parent))
        own = real.chat_template
        real_templates = {"qwen2_marked": templates["qwen2_marked"], "model": (own, {}, None)}
        real_dialogues = [d for d in DIALOGUES if d["name"] in ("system_two_turns", "unicode_three_answers")]
        out = {"versions": versions, "cases": reference_cases(real, real_templates, real_dialogues)}
        (CHAT / "reference_qwen_real.json").write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    else:
        print("note: %s is absent; reference_qwen_real.json left as it is" % REAL_QWEN, file=sys.stderr)


if __name__ == "__main__":
    main()
