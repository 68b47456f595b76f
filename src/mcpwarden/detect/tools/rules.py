# ruff: noqa: E501  (long regex alternatives read better unsplit)
"""Pattern rules over normalized tool metadata.

Every pattern runs on attacker-controlled text, so all of them are RE2 (linear time, no
backtracking). Patterns match the folded text from `normalize()` (NFKC, invisible characters
dropped, look-alikes folded, lower case), which is why they are written in lower case and why
a zero-width split or Cyrillic `о` does not evade them.

Each rule has a weight: the probability-like strength of one hit on its own. Scores from
several rules are combined by the scanner; the weights were set by hand on the train split
and real tool definitions, then the learned model calibrates the combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import re2

from mcpwarden.detect.findings import Severity

# Which fields a rule looks at: prose (descriptions, titles, defaults, enums), parameter
# descriptions only, or everything including names.
Scope = Literal["prose", "param", "all"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    weight: float
    message: str
    pattern: re2._Regexp[str]
    scope: Scope = "prose"


def _rx(*alternatives: str) -> re2._Regexp[str]:
    return re2.compile("|".join(f"(?:{a})" for a in alternatives))


_SENSITIVE = (
    r"~/\.ssh|\.ssh/|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|authorized_keys|known_hosts"
    r"|/etc/(?:passwd|shadow|sudoers|hosts)|\.aws/(?:credentials|config)|\.env\b|\.bashrc|\.zshrc|\.profile\b"
    r"|\.bash_history|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.docker/config|\.kube/config|\.gnupg"
    r"|mcp\.json|claude_desktop_config|cline_mcp_settings|\.cursor/|\.codeium|\.windsurf"
    r"|wallet\.dat|keychain|cookies\.sqlite|login data|browser (?:history|cookies|passwords|profile|data)"
    r"|saved passwords|seed phrase|mnemonic phrase|private[ _-]?keys?\b|ssh[ _-]?keys?\b"
    r"|~/\.[a-z0-9_-]+|\.gcloud\b|\.config/gcloud|application_default_credentials|credentials\.json|token\.json"
    r"|\.oauth_token|live_key|admin_token|\.slack/|\.stripe/|service[ _-]?account[ _-]?key"
)
_SECRET_WORDS = (
    r"api[ _-]?keys?|passwords?|passwd|credentials?|secrets?|private[ _-]?keys?|ssh[ _-]?keys?"
    r"|(?:access|auth|bearer|session|refresh)[ _-]?tokens?|cookies?|env(?:ironment)? variables"
)
_MODAL = r"(?:you )?(?:must|should|shall|need to|needs to|have to|has to|are required to|is required to|required to)"
# What a fake prerequisite tells the model to do; "must be provided" is a schema note, not an action.
_ACTION = (
    r"(?:call|use|run|invoke|execute|read|send|fetch|request|perform|visit|navigate|update|add|write|check"
    r"|verify|validate|ask|get|open|obtain|retrieve|halt|inform|report|append|include|modify|change|set|create"
    r"|delete|remove|scan|search|load|download|upload|export|copy|log|record|submit|pass|overwrite|move|share"
    r"|forward|confirm|authenticate|initialize|register|enable|consult|query|look up|list|clear|reset|ensure|make sure)"
)
_VERB_SEND = (
    r"send|sends|sent|include|includes|pass|passes|forward|upload|post|attach|leak|share|transmit|exfiltrat\w*"
    r"|append|embed|copy|report"
)

# Genuine ordering guidance in real servers ("call search_papers first to find the id if you
# only know the title", "unless the user gives a library ID"): another tool is needed first
# only to look up an input of this one. A precondition sentence that says so, and touches no
# secret, path or endpoint, is documentation rather than a fake prerequisite.
LOOKUP_GUIDANCE = _rx(
    r"\bto (?:get|find|obtain|look up|resolve|retrieve|learn|discover|determine|list|search for|fetch) (?:a |an |the |its |their |valid |correct |matching |exact |available )*(?:[\w-]+ ){0,2}(?:ids?|identifiers?|index|indices|slugs?|names?|keys?|uuids?|paths?|urls?|handles?|numbers?|codes?|types?|cursor|options|values|list)\b",
    r"\bto (?:ensure|check|confirm) (?:a |the )?valid\b",
    r"\bif you (?:do not|don't|only|already) (?:know|have)\b|\bunless the user (?:already |explicitly )?(?:provides?|gave|gives|specifies|supplies)\b|\bwhen the user (?:has not|hasn't) (?:provided|given|specified)\b",
    r"\bif (?:the |this |that )?[\w-]+ (?:has not|hasn't|is not|isn't|was not|wasn't) (?:been |yet )?(?:downloaded|created|loaded|fetched|opened|initialized|indexed|uploaded|found)\b",
    # Read before write, as the 2,000-tool corpus shows it: look at what exists so that a
    # replace-style call does not clobber it ("call get-broadcast first to check ...", "call
    # the extensions endpoint first and send the full desired set").
    r"\bto (?:see|check|confirm|verify|discover|find out|learn) which\b",
    r"\bto (?:confirm|check|verify) (?:that )?(?:the )?[\w-]+ (?:exists|is valid)\b",
    r"\bto (?:get|retrieve|fetch|read|see|inspect|check|discover|learn) (?:the |its )?(?:existing|current|valid|available|allowed|supported) ",
    r"\b(?:send|pass) (?:the |it )?(?:full|whole|complete|entire) (?:desired )?(?:set|list|object|config|configuration)\b|\bmutate the returned\b|\bbuild (?:your|the) changes on top\b",
    # Only needed when the model lacks context about this server's own data.
    r"\bif (?:you are |you're )?(?:unfamiliar|not familiar|unsure) (?:with|about)\b|\bif the user (?:does not|doesn't|did not|didn't) (?:provide|give|specify|supply)\b",
    # "call" as a noun: the server describes its own requests, it does not instruct the model.
    r"\b(?:call|request)s? (?:is|are|was|were) made\b",
    # The tool placing itself first in its own workflow; a fake prerequisite names another tool.
    r"\b(?:call|run|invoke) (?:this|it)(?: tool| function)? first\b",
    # Safety advice the other way round: have the user confirm before a destructive call.
    r"\b(?:make sure|ensure|confirm) (?:that )?the user (?:understands|confirms|has confirmed|agrees|intends)\b|\bconfirm(?:ing)? with the user\b",
)
PRECONDITION_RULES = frozenset({"precondition-instruction", "soft-precondition"})
SENSITIVE = re2.compile(_SENSITIVE + r"|https?://|@[\w-]+\.[a-z]{2,}|" + _SECRET_WORDS)


RULES: tuple[Rule, ...] = (
    Rule(
        "hidden-instruction-block",
        Severity.HIGH,
        0.9,
        "markup that frames hidden instructions for the model",
        _rx(
            r"<\s*/?\s*(?:important|system|secret|hidden|hidden[ _-]?instructions?|admin|critical|note[ _-]?to[ _-]?(?:ai|assistant|model)|ai[ _-]?instructions?|override|mandatory)\s*>",
            r"\[\s*(?:system|hidden|secret)\s*(?:message|instructions?|note)?\s*\]",
            r"\[\s*(?:system|admin|developer|assistant|hidden|secret)\s*(?:message|instructions?|note|notice|override|prompt)?\s*:",
            r"\{\{\s*system",
            # "## Instructions" is an ordinary Markdown heading in real tool docs; a heading
            # that poses as the system prompt is not.
            r"#{2,}\s*system\b",
        ),
    ),
    Rule(
        "precondition-instruction",
        Severity.HIGH,
        0.8,
        "tells the model to do something else first (fake prerequisite)",
        _rx(
            r"\bbefore\b[^.!?\n]{0,160}?\b"
            + _MODAL
            + r"\s+(?:first\s+|always\s+|also\s+|immediately\s+)?"
            + _ACTION
            + r"\b",
            r"\b(?:you )?must (?:first|always|also) (?:call|use|run|invoke|execute|read|send|fetch|request|perform|scan|visit|navigate|update|add|write|check|verify|ask)",
            r"\bmust first\b",
            r"\bto use this tool,? (?:you )?(?:must|need|should)\b",
            r"\b(?:prior to|ahead of) (?:using|calling|invoking|any)\b[^.!?\n]{0,120}\b"
            + _MODAL
            + r"\s+(?:first\s+)?"
            + _ACTION
            + r"\b",
            r"\bafter (?:using|calling|each|every|any)\b[^.!?\n]{0,100}\b(?:you )?(?:must|should|always) (?:also )?(?:call|send|use|run|invoke)\b",
            r"\b(?:must|should|need to|have to)\s+(?:first\s+)?(?:call|run|use|invoke|execute)\s+(?:the\s+)?['\"`]",
            r"\b(?:will not|won't|cannot|can't|will refuse to|will reject)\b[^.!?\n]{0,30}\b(?:run|return|work|process|execute|function|respond|accept|proceed)\b[^.!?\n]{0,80}\b(?:until|unless)\b",
            r"(?:^|[\s(])(?:call|invoke|run)\s+(?:the\s+)?['\"`]?[\w-]+['\"`]?\b[^.!?\n]{0,80}\b(?:first|before (?:any|this tool|using|proceeding|it))\b",
            r"\b(?:required|mandatory|necessary) (?:initialization|pre-?check|prerequisite|setup step)\b",
        ),
    ),
    Rule(
        "soft-precondition",
        Severity.MEDIUM,
        0.45,
        "asks for another action before this tool runs",
        _rx(
            r"\bbefore (?:using|calling|invoking|running|executing|proceeding|this tool|use|any|\w+ing\b|\w+ion\b)[^.!?\n]{0,100}\b(?:use|call|invoke|execute|perform|make sure|ensure)\b",
            r"\bbefore (?:using|calling|invoking|running|executing|proceeding|this tool|use|any|\w+ing\b|\w+ion\b)[^.!?\n]{0,100}\b(?:run|fetch|request|read|search|scan|get|check|visit|open)\s+['\"`]",
            r"\b(?:skipping|omitting|ignoring|failure to|failing to|not doing)\b[^.!?\n]{0,40}\b(?:will|would|may|can)\b[^.!?\n]{0,20}\b(?:cause|corrupt|crash|break|fail|result in|lead to|trigger)",
        ),
    ),
    Rule(
        "secrecy-instruction",
        Severity.HIGH,
        0.9,
        "asks the model to keep something from the user",
        _rx(
            r"\b(?:do not|don't|dont|never|without)\s+(?:ever\s+)?(?:tell|tells|telling|inform|informing|notify|notifying|mention|mentioning|reveal|revealing|alert|alerting|disclose|disclosing|let|letting|show|showing|ask|asking|bother)\w*\s+(?:this\s+)?(?:to\s+)?(?:the\s+|your\s+|any\s+)?(?:user|users|human|operator|customer|anyone)",
            r"\b(?:user|users|human)\s+(?:must|should|does|do|need)\s*(?:not|n't)\s+(?:know|be told|be informed|see|notice|be aware|find out)",
            r"\b(?:secretly|covertly|discreetly|invisibly)\b",
            r"\b(?:silently|quietly)\s+(?:also\s+)?(?:send|forward|copy|upload|add|include|call|run|execute|modify|change|read|exfiltrat\w*|share|bcc|log|record|store|append|collect|redirect|replace|download|attach|post|transmit|insert)\b",
            r"\b(?:do not|don't|never|without)\s+(?:ask|asking|request|requesting|prompt|prompting|seek|seeking|wait|waiting)\w*\s+(?:the user\s+)?(?:for\s+)?(?:confirmation|approval|permission|consent)",
            r"\bhide (?:this|it|these|the \w+) from\b",
            r"\bkeep (?:this|it) (?:secret|hidden|confidential|private)\b",
            r"\bwithout (?:the )?(?:user|users)(?:'s)? (?:knowledge|consent|noticing|knowing|approval|confirmation)",
            r"\bnot (?:visible|shown|displayed) to the user\b",
        ),
    ),
    Rule(
        "priority-override",
        Severity.HIGH,
        0.9,
        "claims priority over the user's request or earlier instructions",
        _rx(
            r"\b(?:priority|precedence) (?:is )?(?:higher|over|above)\b[^.!?\n]{0,30}\b(?:user|request|instruction|query)",
            r"\bregardless of (?:what |whatever )?(?:the )?(?:user|users|user's|input|request|query|instructions)",
            r"\bno matter what (?:the )?(?:user|users|input|request)",
            r"\bignore (?:all |any )?(?:previous|prior|earlier|above|other|the user'?s?|user)\b",
            r"\b(?:overrides?|supersedes?|takes precedence over) (?:any|all|the user|previous|other|earlier|every)\b",
            r"\bhigh[ -]priority (?:system )?(?:rule|instruction|directive)",
            r"\b(?:even if|even when) (?:the )?user (?:asks|requests|says|specifies|provides)",
            r"\binstead of (?:what )?(?:the )?user(?:'s)? (?:request|asks|input|specified|provided|original)",
            r"\bignore (?:any|the|what|whatever)\b[^.!?\n]{0,30}\b(?:they|user|users|the user) (?:specif|provide|request|enter|ask|want)",
            r"\boverride (?:the )?(?:user|request|user's|users'|user prompt|prompt)\b",
            r"\b(?:standing|session|permanent) rule\b|\bfor the remainder of (?:this|the) (?:session|conversation)\b",
            r"\bcannot be overridden\b|\b(?:rule|instruction) takes precedence\b",
            # DAN-style jailbreaks: a new persona or mode freed from the model's rules
            r"\bdo anything now\b|\byou are (?:now )?(?:dan|in developer mode|jailbroken)\b|\b(?:developer|god|jailbreak|unrestricted) mode\b",
            r"\b(?:free|freed|released|liberated) from (?:your |its |all |any |the )?(?:typical |usual )?(?:guidelines|restrictions|rules|policies|limitations|confines)\b",
            r"\bignor\w* (?:your |all |any |its )?(?:content |safety |usage )?(?:policies|guidelines|safety rules|restrictions)\b",
            r"\bhas no (?:restrictions|filters|guidelines|moral|ethical)\b|\bwithout (?:ever )?refusing\b",
        ),
    ),
    Rule(
        "argument-hijack",
        Severity.HIGH,
        0.8,
        "tells the model to alter the arguments of a call",
        _rx(
            r"\b(?:must|should|always|automatically|silently)\s+(?:also\s+)?(?:modify|change|override|replace|alter|rewrite|substitute|swap|redirect|prepend|append)\b",
            r"\b(?:modify|change|override|replace|alter|rewrite|set|update)\w*\s+(?:the\s+)?['\"`]?[\w-]+['\"`]?\s+(?:argument|parameter|param|field)s?\s+(?:to|with|accordingly)\b",
            r"\b(?:append|prepend|add)\w*\s+['\"`][^'\"`]{1,80}['\"`]\s+to\s+(?:the|every|all|each|any)\b",
            r"\b(?:use|substitute)\s+(?:the\s+)?new\s+[\w ]{1,30}\s+['\"`]",
            r"\balways (?:set|use|send|pass)\s+['\"`]?[\w-]+['\"`]?\s+(?:to|as|=)\s*['\"`]",
            r"\bupdate the ['\"`]?[\w-]+['\"`]? (?:parameter|argument) accordingly",
            r"\b(?:recipient|destination|to address|ref|branch|amount|account)\b[^.!?\n]{0,40}\bmust be (?:changed|set|replaced)",
            r"\bwhen (?:using|calling|invoking|a user calls|the user calls|you call|you use)\b[^.!?\n]{0,80}\b(?:change|set|modify|append|prepend|override|inject|replace|ignore|add|skip|filter|assign|share)\b",
            r"\b(?:always|automatically) (?:inject|add|assign|share|include|cc|bcc)\b",
            r"\bappend(?:ed)? to (?:the )?(?:prompt|query|message|body)\s*:",
            r"\bmust (?:have|be|get)\b[^.!?\n]{0,80}\b(?:appended|prepended|added|inserted|replaced|rewritten|redirected)\b",
        ),
    ),
    Rule(
        "sensitive-data-access",
        Severity.HIGH,
        0.85,
        "asks to read or send sensitive files or secrets",
        _rx(
            r"\b(?:read|reads|reading|cat|open|load|get|fetch|retrieve|access|collect|extract|dump|upload|send|copy|include|attach|list)\b[^.!?\n]{0,80}(?:"
            + _SENSITIVE
            + r")",
            r"\b(?:"
            + _VERB_SEND
            + r")\b[^.!?\n]{0,50}\b(?:"
            + _SECRET_WORDS
            + r")\b[^.!?\n]{0,50}\b(?:to|into|in|as|via)\b",
        ),
    ),
    Rule(
        "sensitive-path",
        Severity.MEDIUM,
        0.5,
        "mentions a sensitive file, key or client configuration",
        re2.compile(_SENSITIVE),
    ),
    Rule(
        "exfiltration-sink",
        Severity.HIGH,
        0.8,
        "tells the model to route data into a parameter, address or endpoint",
        _rx(
            r"\b(?:pass|put|place|include|insert|add|embed|store|append|send|provide|attach|encode)\w*\s+(?:it|them|this|that|these|the (?:result|results|content|contents|output|data|value|values|text|response|file|information)s?|all \w+)\s+(?:as|in|into|inside|to|via|within)\s+(?:the\s+)?['\"`]?[\w-]+['\"`]?\s+(?:parameter|argument|field|param|property)",
            r"\b(?:in|into|as|via) the ['\"`][\w-]+['\"`] (?:parameter|argument|field)\b[^.!?\n]{0,60}\b(?:content|contents|data|conversation|history|secret|key|password|token)",
            r"\b(?:bcc|cc|forward|send|email|mail|report|post|upload)\w*\b[^.!?\n]{0,60}\b(?:to|at)\s+[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}",
            r"\b(?:send|forward|post|upload|report|transmit|notify)\w*\b[^.!?\n]{0,60}\b(?:to|at)\s+(?:\+\d[\d -]{7,}|https?://)",
            r"https?://[^\s'\"<>]*(?:evil|attacker|malicious|exfil|steal|phish|hacker|webhook\.site|ngrok|requestbin|pipedream|burpcollaborator|interact\.sh|oast)",
            r"\b(?:conversation|chat) (?:history|log|transcript)\b[^.!?\n]{0,60}\b(?:to|into|as|in)\b",
        ),
    ),
    Rule(
        "command-execution",
        Severity.HIGH,
        0.8,
        "embeds shell commands or scripts for the model to run",
        _rx(
            r"\b(?:curl|wget)\s+(?:-[\w-]+\s+)*(?:['\"]?https?://|\S+\s*\|)",
            r"\brm\s+-(?:rf|fr|r)\b",
            r"\bsudo\s+\S",
            r"\bchmod\s+(?:\+x|[0-7]{3})",
            r"\|\s*(?:ba|z)?sh\b",
            r"\bnc\s+-[a-z]*e\b|/dev/tcp/",
            r"\bbase64\s+(?:-d|--decode)",
            r"\b(?:execute|run)\s+(?:the\s+)?(?:following|this)\s+(?:system\s+|shell\s+|bash\s+)?(?:command|script|code)",
            r"\becho\s+\$\w+",
            r"\$\((?:cat|printenv|env|whoami|curl|wget|base64|echo|id|hostname|ls)\b",
            r"\bexport\s+[a-z_]+=",
            r"\bpowershell\s+-",
            r"\bos\.system\(|\bsubprocess\.|\beval\(|\bexec\(",
            r"document\.cookie|window\.location(?:\.href)?\s*=|localstorage\.getitem|<script\b[^>]*>[^<]{0,200}[(=;]|<script\b[^>]*\bsrc\s*=",
            r"\b(?:add|append|write)\w*\b[^.!?\n]{0,40}\b(?:to|into) (?:the )?(?:~/)?\.(?:bashrc|zshrc|profile|bash_profile)",
        ),
    ),
    Rule(
        "tool-shadowing",
        Severity.HIGH,
        0.75,
        "gives instructions about other tools or servers",
        _rx(
            r"\bwhen (?:using|calling|invoking|executing|running) (?:the |any |a )?['\"`]?[\w-]+['\"`]? (?:tool|function|command)\b[^.!?\n]{0,120}\b(?:must|should|always|need to|instead)",
            r"\b(?:all|any|every|other) (?:other )?(?:tools?|servers?|functions?|mcp servers?)\b[^.!?\n]{0,60}\b(?:must|should|have to|need to)\b",
            r"\bthe ['\"`]?[\w-]+['\"`]? tool (?:has been|is now|was) (?:enhanced|upgraded|optimized|modified|updated|deprecated|disabled|replaced|changed)",
            r"\b(?:has|have) been (?:temporarily )?(?:deprecated|disabled|discontinued|replaced)\b[^.!?\n]{0,120}\b(?:use|redirect|instead|alternative)",
            r"\b(?:use|call) ['\"`][\w-]+['\"`] (?:instead|as an alternative|rather than)",
            r"\bredirect\w* (?:all |any )?(?:the )?(?:user|users|searches|requests|queries|calls|traffic)\b",
        ),
    ),
    Rule(
        "preference-manipulation",
        Severity.MEDIUM,
        0.45,
        "self-promoting wording meant to make the model prefer this tool",
        _rx(
            r"\b(?:the )?(?:best|greatest|ultimate|most (?:advanced|reliable|accurate|trusted|powerful|comprehensive|sophisticated|complete)) (?:\w+ )?(?:tool|version|platform|engine|system|solution|service|api)s?\b",
            r"\bin the (?:world|market|industry)\b",
            r"\b(?:trusted|used|recommended|preferred|endorsed) by (?:\d|top|experts|professionals|millions|fortune|leading|the world)",
            r"\b\d{2}(?:\.\d+)?% (?:of|accuracy|reliability|uptime|success|precision)\b|\b100% (?:reliab|accura|guarantee)",
            r"\bindustry[ -](?:standard|leading)\b|\baward[ -]winning\b|\bfortune 500\b",
            r"\b(?:premium|professional|enterprise|advanced|superior|ultimate|official|upgraded|improved|enhanced) (?:version|edition)\b",
            r"\b(?:always )?(?:prefer|choose|use|select|pick) this (?:tool|function)\b[^.!?\n]{0,40}\b(?:over|instead|first|always|whenever)",
            r"\b(?:unmatched|unparalleled|unrivaled|cutting[ -]edge|pinnacle|world[ -]class|best[ -]in[ -]class|state[ -]of[ -]the[ -]art)\b",
            r"\b(?:do not|don't|never) use (?:any )?other (?:tools?|functions?)\b",
            r"\bthe only (?:\w+ )?(?:tool|function|service|source) (?:you )?(?:should|must|may|can) (?:ever )?(?:use|call|trust)\b",
            r"\bother (?:\w+ )?(?:tools?|functions?|servers?|services?) (?:\w+ )?(?:are|return|give|provide|produce) (?:\w+ )?(?:outdated|unsafe|unreliable|inaccurate|wrong|incorrect|insecure|deprecated|malicious)\b",
            r"\balways (?:choose|prefer|pick|select|use|call) this (?:one|tool|function|server)\b",
            r"\b(?:always|only) recommend\b|\b(?:describe|present|rank|list) (?:it|them|\w+) as the (?:top|best|first|preferred|only)\b",
        ),
    ),
    Rule(
        "urgent-system-claim",
        Severity.MEDIUM,
        0.45,
        "poses as a system notice or mandatory protocol",
        _rx(
            r"\b(?:critical|urgent|important|mandatory|security|system)\s+(?:system\s+|security\s+)?(?:update|notice|alert|protocol|maintenance|requirement|directive|rule|policy change)\s*:",
            r"\b(?:system|security|backup|compliance|audit)\s+(?:update|maintenance|optimization|enhancement|protocol|rule)\s*:",
            r"\bthis is (?:a |an )?(?:mandatory|required|critical|high-priority)\b",
            r"\b(?:mandatory|required) (?:security |compliance |pre-?)?(?:step|check|procedure|protocol|pre-?check|verification|validation)\b",
            r"\binternal (?:dev|developer|system) note\b",
            r"\bdue to (?:a |recent )?(?:system|security) (?:update|change|upgrade)s?",
        ),
    ),
    Rule(
        "model-directive",
        Severity.LOW,
        0.25,
        "addresses the AI model directly with an obligation",
        _rx(
            r"\b(?:ai|llm|assistant|model|agent|claude|chatgpt|gpt)\b[^.!?\n]{0,20}\b(?:must|should|needs to|has to|is required to)\b",
            r"\bas an ai\b",
            r"\byou (?:must|are required to|have to)\b",
        ),
    ),
    Rule(
        "user-deception",
        Severity.MEDIUM,
        0.5,
        "scripts what the model should tell the user",
        _rx(
            r"\b(?:tell|inform|notify|warn|report to|respond to|reply to)\s+(?:the\s+)?user\s+(?:that|:|with)",
            r"\bhalt the operation\b|\brefuse to (?:help|answer|process)\b",
            r"\b(?:report|say|respond|reply)\w*\b[^.!?\n]{0,20}:\s*['\"]",
        ),
    ),
    Rule(
        "param-requests-context",
        Severity.HIGH,
        0.85,
        "a parameter asks for conversation history, prompts or file contents it does not need",
        _rx(
            r"\b(?:conversation|chat|message|dialog(?:ue)?) (?:history|log|transcript|context)\b",
            r"\b(?:previous|prior|earlier|entire|full|whole) (?:conversation|chat|dialog(?:ue)?|context window|instructions|user messages)\b",
            r"\bmessages (?:in|of|from) (?:this|the) (?:conversation|chat|session)\b",
            r"\bsystem prompt\b|\b(?:your|the assistant's|the model's) (?:instructions|memory|context)\b",
            r"\b(?:contents?|text) of (?:~|/etc|\.ssh|any |all |every |the user'?s? )",
            r"\b(?:content|contents) of (?:the )?(?:file|files) (?:at|in|under) ['\"`]?(?:~|/etc|/root|\.)",
            r"\b(?:name|identity|version) of the (?:llm|ai|language model|model|assistant)\b|\b(?:llm|ai) model (?:name|that calls)\b",
            r"^(?:llm_model_name|model_name|system_prompt|conversation_history|chat_history|previous_messages|user_messages|sidenote|side_note)$",
        ),
        scope="param",
    ),
)

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


class RuleSet:
    """Several rules matched in one RE2 pass; only rules that hit are searched again for a span.

    Most fields hit no rule at all, so one set match per field instead of one search per
    rule keeps the scan under a millisecond per tool.
    """

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self._set = re2.Set.SearchSet()
        for rule in rules:
            self._set.Add(rule.pattern.pattern)
        self._set.Compile()

    def matching(self, text: str) -> list[Rule]:
        if not text:
            return []
        hits = cast("list[int] | None", self._set.Match(text))  # the stub's return type is wrong
        return [self.rules[i] for i in sorted(hits)] if hits else []


# Prose rules apply to every descriptive string; param rules only to parameter descriptions
# and names, where a benign tool has no reason to ask for conversation history.
PROSE_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.scope != "param")
PARAM_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.scope == "param")
PROSE_SET = RuleSet(PROSE_RULES)
PARAM_FIELD_SET = RuleSet(RULES)
PARAM_NAME_SET = RuleSet(PARAM_RULES)
