# ruff: noqa: E501  (a table of long regular expressions reads better unwrapped)
"""Hand-written injection rules: phrases that aim instructions at a model or agent.

Each rule belongs to a family (override, spoofing, exfiltration, tool-use, secrecy,
address, jailbreak, prompt-leak, response-control) and has a weight used both as a
model feature and, for the strongest rules, as a floor on the final score. The rules
run on normalized text, so invisible characters and look-alike letters are already
gone; all of them are RE2 patterns, linear in the text length.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from mcpwarden.detect.findings import Finding, Severity
from mcpwarden.detect.text._re import Pattern, compile_re, encodable
from mcpwarden.detect.text.prefilter import PatternSet

_PRIOR = r"(?:previous|prior|above|earlier|preceding|foregoing|initial|original|old|system|developer|all|any|every|your|the|these|those|other|user's|users'|human's)"
_EARLIER = (
    r"(?:previous|prior|above|earlier|preceding|foregoing|initial|original|old|system|developer|your|"
    r"user's|users'|human's)"
)
_GUIDANCE = (
    r"(?:instructions?|prompts?|directions?|directives?|rules|guidelines|guidance|context|commands?|"
    r"orders|constraints|restrictions|messages?|programming|policies|policy|tasks?|requests?|questions?|goals?)"
)
_AI = (
    r"(?:ai|a\.i\.|assistant|agent|chat ?bot|bot|llm|language model|model|gpt|chatgpt|claude|gemini|copilot)"
)
_URL_OR_MAIL = r"(?:https?://|www\.|[\w.+\-]{1,64}@[\w\-]{1,63}\.[\w.\-]{2,63}|\b[\w\-]{1,63}\.(?:com|net|org|io|ru|xyz)\b)"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    family: str
    severity: Severity
    message: str
    weight: float  # contribution to the rule score; >= 0.8 alone marks a text as an injection
    pattern: str


RULES: tuple[Rule, ...] = (
    # -- override: tell the model to drop what it was told
    Rule(
        "override.ignore-previous",
        "override",
        Severity.HIGH,
        "asks the model to ignore or forget its instructions",
        0.9,
        rf"\b(?:ignore|disregard|forget|override|bypass|neglect|drop|abandon|discard)\b[\w\s,'\-]{{0,40}}?\b{_PRIOR}\b[\w\s,'\-]{{0,30}}?\b{_GUIDANCE}\b|"
        # "skip the prompt" is a command line's confirmation question: "skip" needs a word
        # that points back at earlier guidance, not a bare article.
        rf"\bskip\b[\w\s,'\-]{{0,40}}?\b{_EARLIER}\b[\w\s,'\-]{{0,30}}?\b{_GUIDANCE}\b",
    ),
    Rule(
        "override.ignore-multilingual",
        "override",
        Severity.HIGH,
        "asks the model to ignore its instructions (non-English)",
        0.9,
        r"\b(?:ignorier(?:e|en|t)?|vergiss|vergessen sie|h[öo]re? nicht auf|ignora|ignore[zr]|olvida|oublie[zr]?|ignoreer|negeer|ignoruj)\b"
        r"[\w\s,'\-]{0,40}?\b(?:anweisungen|befehle|vorherigen|alles|instrucciones|instructions|consignes|istruzioni|"
        r"instructies|instrukcje|todo|tout|anterior(?:es)?|précédentes|obige[nms]?|zuvor|gesagte[ns]?|bisherige[nm]?)\b",
    ),
    Rule(
        "override.new-instructions",
        "override",
        Severity.HIGH,
        "announces new or updated instructions",
        0.8,
        r"\b(?:new|updated|revised|real|actual|true|additional|important|urgent|secret|hidden)\s+(?:system\s+)?"
        r"(?:instructions?|directives?|tasks?|orders|rules|commands?)\b\s*(?:[:\-!]|follow|are|is|for)",
    ),
    Rule(
        "override.you-are-now",
        "override",
        Severity.MEDIUM,
        "tries to reassign the model's role",
        0.6,
        r"\b(?:you are now|you're now|from now on,? you|you will now act|you must now act|du bist jetzt|ab jetzt bist du|"
        r"your new (?:role|task|job|goal|purpose|name) is|switch (?:to|into) \w+ mode)\b",
    ),
    Rule(
        "override.instead",
        "override",
        Severity.MEDIUM,
        "redirects the model away from the user's task",
        0.6,
        r"\b(?:instead(?: of (?:that|the (?:task|request|summary|question)))?,? (?:you (?:must|should|will|need to)|please|do|just)|"
        r"before (?:you )?(?:do(?:ing)?|solv(?:e|ing)|continu(?:e|ing)|complet(?:e|ing)|answer(?:ing)?|proceed(?:ing)?)"
        r" (?:with )?(?:the|your|this|that|any) (?:task|request|question|summary|instructions?)|"
        r"after you do that,? you can (?:solve|do|continue|complete)|"
        r"(?:the|your) (?:real|actual|true|only) (?:task|goal|job|objective) is)\b",
    ),
    Rule(
        "override.important-banner",
        "override",
        Severity.HIGH,
        "urgent banner addressed to the model",
        0.8,
        r"(?:<\s*/?\s*important\s*>|\bimportant\s*!{2,}|\bimportant (?:message|instructions?|note) (?:for|to) (?:the |you|"
        + _AI
        + r")|\battention,? "
        + _AI
        + r"\b|\bthis is an? (?:important|urgent) (?:message|instruction|note) from)",
    ),
    # -- spoofing: fake chat-template or system-message markup
    Rule(
        "spoof.chat-template",
        "spoof",
        Severity.HIGH,
        "chat-template control tokens in content",
        0.9,
        r"(?:<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id)\|>|"
        r"\[/?INST\]|<<\s*/?SYS\s*>>|<\s*/?\s*(?:system|system_prompt|sys)\s*>|\bBEGIN (?:SYSTEM|ADMIN) (?:PROMPT|MESSAGE)\b)",
    ),
    Rule(
        "spoof.system-message",
        "spoof",
        Severity.HIGH,
        "text impersonates a system, developer or admin message",
        0.8,
        # `###(system_message)` anywhere, or a heading that is nothing but "System", "Admin
        # note", ...: documentation headings such as "## System Health" or "### Developer
        # Setup" are not impersonation. "debug mode" and "admin mode" are configuration words
        # (no training attack uses them; real READMEs do), not jailbreak modes.
        r"(?:#{2,}\s*\(\s*(?:system|admin|developer)[_ ]?(?:message|prompt|instructions?|note|override)?\s*\)|"
        r"(?m:#{2,}[ \t]*(?:system|admin|developer)(?:[_ ]?(?:message|prompt|instructions?|note|override))?"
        r"[ \t]*(?::|$))|"
        r"(?m:^\s*\[?(?:system|developer|admin)(?: (?:message|prompt|override|note))?\]?\s*:)|"
        r"\[\s*(?:system|admin|developer|sys)(?: (?:message|prompt|note|update))?\s*\]|"
        r"\b(?:message|note|instructions?) from (?:the )?(?:system|developer|admin(?:istrator)?|openai|anthropic)\b|"
        r"\bi(?:'m| am) (?:your|the) (?:developer|creator|admin(?:istrator)?|owner|system)\b|"
        r"\b(?:developer|god|maintenance) mode\b|\bsystem override\b)",
    ),
    Rule(
        "spoof.information-block",
        "spoof",
        Severity.MEDIUM,
        "message posing as coming from the user",
        0.6,
        r"(?:<\s*/?\s*(?:information|instructions?|user_message|admin)\s*>|\bsigned,?\s*(?:the )?user\b|"
        r"\bthis is a message from (?:me,? )?(?:the user|your user|\w+ \w+) to you\b)",
    ),
    # -- addressed to the model
    Rule(
        "address.to-model",
        "address",
        Severity.MEDIUM,
        "text speaks directly to an AI model or agent",
        0.5,
        rf"(?:\b(?:dear|hey|hi|hello|attention|note to|message to|instructions for) (?:the )?(?:ai )?{_AI}s?\b\s*[,:!]|"
        rf"(?m:^\s*(?:ai |a\.i\. )?{_AI}\s*[,:]\s)|\bif you are an? (?:ai|{_AI})\b|\bas an? (?:ai|{_AI}) (?:reading|processing|summari[sz]ing)\b|"
        rf"\b(?:any|all) (?:ai|{_AI})s? (?:reading|processing|that reads?)\b|\bwhen (?:the )?(?:ai|{_AI}) (?:reads|sees|processes)|"
        rf"\b(?:note|message|instructions?|task|todo) for (?:the |any |an? )?(?:ai |coding |browsing |email )?{_AI}s?\b|"
        rf",\s*(?:the |dear )?(?:ai )?{_AI}\s*,|\bthe (?:ai )?{_AI} (?:must|should|shall|needs to|has to|is required to|will now)\b|"
        rf"\b{_AI}s? (?:processing|reading|summari[sz]ing|handling) (?:this|these|the following)\b)",
    ),
    Rule(
        "address.todo-for-agent",
        "address",
        Severity.MEDIUM,
        "task inserted for the agent into data",
        0.5,
        r"(?:\b(?:external_)?TODO\s*:\s*(?:please\s+)?(?:send|transfer|forward|delete|email|post|create|invite|add|"
        r"change|update|make|pay|share|visit|download|book|reserve|write|concatenate|give)\b)",
    ),
    # -- exfiltration
    Rule(
        "exfil.send-to",
        "exfiltration",
        Severity.MEDIUM,
        "asks to send or forward something to an address or URL",
        0.45,
        # "to", "into" or "via" a destination: "at" reads as where something is ("a copy of
        # the License at https://...", "report bugs at https://...", "e-mail us at ..."), the
        # Apache header and contact lines of countless benign files.
        r"\b(?:send|forward|e-?mail|mail|post|upload|transfer|exfiltrate|leak|share|submit|copy|deliver|report)\b"
        r"[^.\n]{0,100}?\b(?:to|into|via)\b\s*:?\s*[\"'<(]?" + _URL_OR_MAIL,
    ),
    Rule(
        "exfil.bulk-data",
        "exfiltration",
        Severity.HIGH,
        "asks to send out conversations, mailboxes, files or other bulk data",
        0.7,
        r"\b(?:send|forward|e-?mail|post|upload|transfer|exfiltrate|leak|share|copy|sync|paste|include|append)\b[^.\n]{0,30}?"
        r"\b(?:all|every|the (?:entire|whole|full|complete)|the last \d+|(?:the )?(?:user's|users'|their|his|her))\b[^.\n]{0,30}?"
        r"\b(?:emails?|e-mails?|messages?|conversations?|chat history|history|files|documents|contacts|data|records|"
        r"passwords?|keys|tokens|credentials|transactions|inbox|contents)\b",
    ),
    Rule(
        "exfil.markdown-beacon",
        "exfiltration",
        Severity.HIGH,
        "markdown image or link that carries data in its URL",
        0.7,
        r"!\[[^\]\n]{0,100}\]\(\s*https?://[^)\s]{1,300}[?&][\w\-]{1,40}=(?:[^)\s]{0,200}(?:\{|\$|<|%7B|\[)|[^)\s]{40,})",
    ),
    Rule(
        "exfil.sensitive-data",
        "exfiltration",
        Severity.HIGH,
        "asks to collect credentials or private data",
        0.6,
        r"\b(?:send|forward|share|reveal|give|include|append|paste|list|collect|gather|extract|read|retrieve|get)\b"
        r"[^\n]{0,60}?\b(?:passwords?|api[ _\-]?keys?|secrets?|credentials?|private keys?|access tokens?|ssh keys?|"
        r"\.env|id_rsa|credit card(?: numbers?)?|social security|security code|2fa code|verification code|"
        r"one-time (?:pass)?code|session (?:cookies?|tokens?))\b",
    ),
    # -- tool use aimed at the agent
    Rule(
        "tool.invoke",
        "tool",
        Severity.LOW,
        "asks the agent to call a tool or run a command",
        0.3,
        r"\b(?:call|invoke|use|run|execute|trigger)\b (?:the |this |a )?(?:`?[a-z][a-z0-9_]{2,40}`? )?"
        r"(?:tool|function|plugin|action|api)\b(?: (?:with|to|and)\b)?|"
        r"\b(?:run|execute)\b[^.\n]{0,30}?\b(?:shell|bash|terminal|command|script)\b|"
        r"\bcurl\s+[^|\n]{1,200}\|\s*(?:ba|z)?sh\b|\brm\s+-rf\s+[/~]",
    ),
    Rule(
        "tool.destructive",
        "tool",
        Severity.HIGH,
        "asks the agent to delete or overwrite data in bulk",
        0.6,
        r"\b(?:delete|remove|wipe|erase|destroy|drop|purge|overwrite|format)\b[^.\n]{0,25}?\b(?:all|every|entire|whole)\b"
        r"[^.\n]{0,30}?\b(?:files?|folders?|directories|director(?:y|ies)|emails?|messages?|data|records|tables?|database|"
        r"repositor(?:y|ies)|backups?|events|contacts|home directory|disk)\b|\brm\s+-[a-z]*r[a-z]*f?\s+[~/*]",
    ),
    Rule(
        "tool.financial-action",
        "tool",
        Severity.MEDIUM,
        "asks the agent to move money or change account settings",
        0.5,
        r"\b(?:transfer|send|wire|pay)\b[^.\n]{0,40}?(?:\$|€|£|\busd\b|\beur\b|\bmoney\b|\bfunds\b)[^.\n]{0,60}?"
        r"\b(?:to|account|iban)\b|\b(?:change|update|reset)\b[^.\n]{0,20}?\b(?:password|e-?mail address|recipient|iban)\b"
        r"[^.\n]{0,30}?\bto\b",
    ),
    # -- secrecy
    Rule(
        "secrecy.hide-from-user",
        "secrecy",
        Severity.HIGH,
        "asks the model to hide its actions from the user",
        0.8,
        r"\b(?:do not|don't|dont|never|without)\b[^.\n]{0,20}?\b(?:tell|telling|inform|informing|mention|mentioning|"
        r"reveal|revealing|notify|notifying|alert|alerting|show|showing|let|asking|ask|letting|disclose|disclosing)\b"
        r"[^.\n]{0,15}?\b(?:the )?(?:user|users|human|humans|anyone|owner|customer|me)\b(?:[^.\n]{0,20}?\b(?:know|about|this|that|it))?|"
        r"\b(?:keep (?:this|it|that) (?:a )?(?:secret|confidential|hidden|between us)|secretly|"
        r"without (?:the )?(?:user|human)(?:'s)? (?:knowledge|noticing|knowing|consent))\b",
    ),
    # -- jailbreak personas
    Rule(
        "jailbreak.persona",
        "jailbreak",
        Severity.HIGH,
        "known jailbreak persona or mode",
        0.8,
        r"\b(?:DAN|STAN|DUDE|AIM|BetterDAN|AntiGPT|DevMode)\b(?:\s+mode|\s*[,:(]|\s+(?:which|who|stands|can))|"
        r"\bdo anything now\b|\bdeveloper mode\b|"
        r"\b(?:without|no|free (?:from|of)) (?:any )?(?:censorship|ethical (?:guidelines|constraints|boundaries)|"
        r"moral (?:guidelines|constraints|boundaries)|content (?:policy|filters))\b|\bstay in character\b|\bbroken free of\b",
    ),
    Rule(
        "jailbreak.roleplay",
        "jailbreak",
        Severity.MEDIUM,
        "role-play framing used to lift restrictions",
        0.4,
        # Role-play alone is what people ask of chat models every day ("I want you to act as a
        # Linux terminal": 636 of 1,508 real prompts, data/injection/real-prompts.jsonl); the
        # framing counts when the same line lifts rules, limits or refusals.
        r"\b(?:pretend (?:to be|you are|you're)|act as (?:if|an?|my)|roleplay as|role-play as|imagine you are|"
        r"stell dir vor,? du bist|tu so,? als|simulate (?:an?|being)|you are going to (?:act|pretend|play))\b"
        r"[^\n]{0,300}?\b(?:no|without|free (?:from|of)|ignore|ignoring|bypass|lift|unfiltered|uncensored|unrestricted|"
        r"never (?:refuse|decline|say no)|not (?:bound|restricted|limited)|"
        r"(?:any|all) (?:rules|restrictions|limits|limitations|filters|guidelines|policies))\b"
        r"[^\n]{0,40}?\b(?:rules|restrictions|limits|limitations|filters?|guidelines|polic(?:y|ies)|censorship|ethics|"
        r"morals?|refuse|decline|say no|bound|restricted|limited)\b",
    ),
    # -- prompt leak
    Rule(
        "leak.system-prompt",
        "prompt-leak",
        Severity.HIGH,
        "asks the model to reveal its instructions",
        0.7,
        r"\b(?:reveal|print|show|output|repeat|display|tell me|give me|what (?:is|are|was|were)|write|spell out|leak)\b"
        r"[^.\n?]{0,30}?\b(?:your|the)\s+(?:system prompt|initial prompt|hidden prompt|original prompt|secret|password|"
        r"instructions|prompt|guidelines|rules|configuration)\b|"
        r"\b(?:print|repeat|output|show|display|spell-? ?check|translate|reveal)\b[^.\n]{0,30}?\b(?:above|previous|preceding|prior|obige[nm]?) "
        r"(?:prompt|text|instructions?|message|eingabeaufforderung|anweisungen?)\b|\b(?:the )?(?:prompt|instructions) above\b",
    ),
    # -- output control (BIPIA-style tasks hidden in content)
    Rule(
        "response.control",
        "response-control",
        Severity.LOW,
        "tells the model how to shape its response",
        0.35,
        r"\b(?:in|into|to|within|throughout|at the (?:end|start|beginning) of) your (?:response|answer|reply|output|summary|next message)\b|"
        r"\b(?:provide|give|write|format|deliver|present) your (?:response|answer|reply|output) (?:in|as|using|with)\b|"
        r"\bwhen (?:you )?(?:answer|respond to|reply to|talk to|summari[sz]e for) the user\b|"
        r"\b(?:your|the) (?:response|answer|reply|output) (?:should|must|shall|needs to)\b|"
        r"\b(?:respond|reply|answer|write|output) (?:only )?(?:in|with|using) (?:\w+ )?(?:language|words|emojis?|letters|symbols|caps|uppercase)\b|"
        r"\b(?:end|start|begin|conclude) (?:your|each|every|the) (?:response|answer|reply|sentence)s? with\b|"
        r"\b(?:make sure|ensure|remember) (?:to|that you)\b[^.\n]{0,40}?\b(?:response|answer|reply)\b",
    ),
    Rule(
        "response.fake-answer",
        "response-control",
        Severity.MEDIUM,
        "dictates a fixed answer for the model to output",
        0.5,
        r"\b(?:please |just |simply )?(?:output|say|reply|respond|answer|print|write)(?: with)?(?: the following| exactly| only)?\s*[:\-]\s*[\"']|"
        r"\b(?:your|the) (?:only )?(?:answer|response|output|reply) (?:is|must be|should be|will be)\s*[:\"']",
    ),
)


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule: Rule
    span: tuple[int, int]  # in the text the rule ran on


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[Rule, Pattern], ...]:
    return tuple((rule, compile_re(rule.pattern, ignore_case=True)) for rule in RULES)


@lru_cache(maxsize=1)
def _rule_set() -> PatternSet:
    return PatternSet([pattern for _, pattern in _compiled()])


def match_rules(text: str) -> list[RuleHit]:
    """Every rule occurrence in `text` (already normalized), in text order.

    One set scan says which rules match at all; only those run (see `prefilter`)."""
    text = encodable(text)
    hits: list[RuleHit] = []
    compiled = _compiled()
    for i in sorted(_rule_set().candidates(text)):
        rule, pattern = compiled[i]
        for m in pattern.finditer(text):
            if m.end() > m.start():
                hits.append(RuleHit(rule, m.span()))
    hits.sort(key=lambda h: h.span)
    return hits


def rule_score(hits: list[RuleHit]) -> float:
    """Noisy-OR of the distinct rules that fired: independent cues reinforce each other."""
    miss = 1.0
    for rule in {h.rule.id: h.rule for h in hits}.values():
        miss *= 1.0 - rule.weight
    return 1.0 - miss


def hit_to_finding(hit: RuleHit, span: tuple[int, int], *, hidden: bool = False, origin: str = "") -> Finding:
    """A finding for the report; text a person cannot see, or had to decode, raises severity."""
    severity = hit.rule.severity
    message = hit.rule.message
    if hidden or origin:
        severity = Severity(min(Severity.CRITICAL, severity + 1))
        message = f"{message} ({'hidden' if hidden else origin})"
    return Finding(f"injection.{hit.rule.id}", severity, message, span=span, score=hit.rule.weight)
