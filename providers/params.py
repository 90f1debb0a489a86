"""Declarations of the services' operations and their parameters, written once.

Each service module declares its operations with ``Operation``/``Param``/rules. The same
declaration validates a request before anything paid is sent, tells the Blender panel what to
draw (common options, the rest under *Advanced*) and gives the command line its options.

``Operation.validate`` raises ``InvalidRequestError`` naming the field and what is allowed: by
its parameter name for scripts and the command line, or by the words a form shows (``words``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequestError
from .prices import Estimate, Price, free_estimate

#: Parameter kinds. ``image``: a path, https URL or data URL of one picture; ``image_list``:
#: several. Lists of text (``str_list``) are e.g. part names. ``file``: a path to a local file
#: that is not a picture (e.g. a model to upload), so the panel draws a file picker.
KINDS = ("str", "int", "float", "bool", "enum", "str_list", "image", "image_list", "file")
#: Generic inputs: the prompt, the negative prompt, one image, several images, and the earlier
#: job a follow-up acts on (filled with that job's remote id).
ROLES = ("", "prompt", "negative_prompt", "image", "images", "parent")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    label: str = ""
    description: str = ""
    #: The service's documented default (None: the service decides), shown in the UI.
    default: Any = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    #: Drawn in the collapsed *Advanced* panel rather than with the common options.
    advanced: bool = False
    #: What the parameter is for the generic inputs every service shares, so the panel and
    #: ``conjure.generate(prompt=..., image_path=...)`` can fill it: one of ROLES, or "".
    role: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} not in {KINDS}")
        if self.role not in ROLES:
            raise ValueError(f"{self.name}: role {self.role!r} not in {ROLES}")

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def allowed(self) -> str:
        """Words for what this parameter accepts, for error messages and tooltips."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        parts = []
        if self.kind in ("int", "float"):
            parts.append("a whole number" if self.kind == "int" else "a number")
            if self.minimum is not None and self.maximum is not None:
                parts.append(f"from {_num(self.minimum)} to {_num(self.maximum)}")
            elif self.minimum is not None:
                parts.append(f"of at least {_num(self.minimum)}")
            elif self.maximum is not None:
                parts.append(f"of at most {_num(self.maximum)}")
        elif self.kind == "bool":
            parts.append("true or false")
        elif self.kind in ("str", "image", "file"):
            parts.append({"str": "text", "image": "an image path or URL",
                          "file": "a file path"}[self.kind])
            if self.max_length:
                parts.append(f"of at most {self.max_length} characters")
        else:
            parts.append("a list")
            if self.min_items is not None and self.max_items is not None:
                parts.append(f"of {self.min_items} to {self.max_items} items")
            elif self.max_items is not None:
                parts.append(f"of at most {self.max_items} items")
        return " ".join(parts)

    def missing(self, word: str = "") -> str:
        """Why a required value that was not given is refused: by the parameter's name, or by
        ``word``, what the form calls it."""
        if not word:
            return f"{self.name} is required ({self.allowed()})"
        if self.kind in ("image", "image_list"):
            return f"{word}: add a picture (Render, Viewport or File)"
        return f"{word} is required"

    def clean(self, value: Any, where: str, word: str = "") -> Any:
        """``value`` converted to this parameter's type; raises when it does not fit (named
        ``word`` where given, as on a form)."""

        def refuse(why: str = "") -> InvalidRequestError:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            said = f"{where}: {self.name}" if not word else word
            return InvalidRequestError(
                f"{said} must be {self.allowed()}" + (f" ({why})" if why else "")
                + f"; got {shown}", field=self.name)

        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise refuse()
            return value
        if kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise refuse()
            if kind == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise refuse()
                value = int(value)
            else:
                value = float(value)
            if (self.minimum is not None and value < self.minimum) or (
                    self.maximum is not None and value > self.maximum):
                raise refuse()
        elif kind in ("str", "image", "file", "enum"):
            if kind == "enum" and value not in self.choices:
                raise refuse()
            if kind != "enum" and not isinstance(value, str):
                raise refuse()
            if kind != "enum" and self.max_length is not None and len(value) > self.max_length:
                raise refuse(f"{len(value)} characters")
        else:
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise refuse()
            value = list(value)
            if any(not isinstance(v, str) for v in value):
                raise refuse("every item must be text")
            if self.max_items is not None and len(value) > self.max_items:
                raise refuse(f"{len(value)} items")
            if self.min_items is not None and len(value) < self.min_items:
                raise refuse(f"{len(value)} items")
        if self.choices and kind != "enum" and value not in self.choices:
            raise refuse()
        return value


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _present(values: Mapping[str, Any], name: str) -> bool:
    value = values.get(name)
    return value is not None and value != "" and value != []


class Worded(str):
    """A rule's problem that can be said again in a form's words: ``reword(words)`` names the
    parameters as ``words`` (parameter name → what the form calls it) does."""

    def __new__(cls, text: str, reword: Callable[[Mapping[str, str]], str]) -> Worded:
        made = super().__new__(cls, text)
        made.reword = reword  # type: ignore[attr-defined]
        return made


def _said(names: Iterable[str], words: Mapping[str, str]) -> list[str]:
    """``names`` as ``words`` calls them, each once, in order."""
    said: list[str] = []
    for name in names:
        word = words.get(name, name)
        if word not in said:
            said.append(word)
    return said


def _either(said: list[str]) -> str:
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " or " + said[-1]


@dataclass(frozen=True)
class Rule:
    """A constraint across parameters: ``check`` returns None or the reason it is broken;
    ``field`` is the parameter the message is about."""

    field: str
    check: Callable[[Mapping[str, Any]], str | None]


def exclusive(*names: str) -> Rule:
    """At most one of ``names`` may be given."""
    def check(values: Mapping[str, Any]) -> str | None:
        given = [n for n in names if _present(values, n)]
        if len(given) > 1:
            return Worded(
                f"{' and '.join(given)} cannot be used together; give only one of them",
                lambda words: f"{' and '.join(_said(given, words))} cannot be used together; "
                              "give only one of them")
        return None
    return Rule(names[-1], check)


def one_of(*names: str) -> Rule:
    """At least one of ``names`` must be given."""
    def check(values: Mapping[str, Any]) -> str | None:
        if not any(_present(values, n) for n in names):
            return Worded(f"give at least one of {', '.join(names)}",
                          lambda words: f"fill in {_either(_said(names, words))}")
        return None
    return Rule(names[0], check)


def only_when(name: str, condition: Callable[[Mapping[str, Any]], bool], why: str) -> Rule:
    """``name`` may be given only when ``condition`` holds (``why`` says when)."""
    def check(values: Mapping[str, Any]) -> str | None:
        if _present(values, name) and not condition(values):
            return Worded(f"{name} {why}", lambda words: f"{words.get(name, name)} {why}")
        return None
    return Rule(name, check)


@dataclass(frozen=True)
class Operation:
    """One thing a service can do, e.g. Tripo ``text_to_model``."""

    service: str
    name: str
    label: str
    #: What the user starts from, for the panel's mode list: "text", "image", "multiview",
    #: "model" (a follow-up on an earlier result), "upload", ...
    mode: str
    params: tuple[Param, ...] = ()
    rules: tuple[Rule, ...] = ()
    description: str = ""
    #: Follow-ups act on an earlier job; the engine fills the parent's remote id in.
    needs_parent: bool = False
    #: False for operations that cost nothing (e.g. Voxel-AI's candidate images).
    paid: bool = True
    #: What it typically costs with the chosen options (see ``prices``); every paid
    #: operation declares one, with an unknown figure where none is published.
    price: Price | None = None
    by_name: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {p.name: p for p in self.params})

    def param_for(self, role: str) -> Param | None:
        """The parameter that plays ``role`` (see ``ROLES``) in this operation, if any."""
        return next((p for p in self.params if p.role == role), None)

    def estimate(self, values: Mapping[str, Any],
                 live: Mapping[str, float] | None = None) -> Estimate:
        """The typical cost of sending ``values`` (unset options count at their documented
        defaults); a figure the service published just now (``live``) wins."""
        unit = self.price.unit if self.price is not None else ""
        if not self.paid:
            return free_estimate(unit)
        if self.price is None:
            return Estimate(None, unit, note="no price is declared for this operation")
        filled = {p.name: p.default for p in self.params if p.default is not None}
        filled.update({k: v for k, v in values.items() if v is not None})
        return self.price.estimate(filled, self.name, live)

    def validate(self, values: Mapping[str, Any],
                 words: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The request's values, type-checked; unset (None) values are dropped.

        Raises ``InvalidRequestError`` with ``field`` set for the first problem found. With
        ``words`` (parameter name → what a form calls that field) the message names the
        fields that way and leaves out the service and operation, which the form shows.
        """
        where = f"{self.service} {self.label}"
        if words is not None:
            return self._validate_worded(values, words)
        unknown = sorted(set(values) - set(self.by_name))
        if unknown:
            raise InvalidRequestError(
                f"{where}: unknown option {unknown[0]!r}; the options are "
                + ", ".join(sorted(self.by_name)), field=unknown[0])
        cleaned: dict[str, Any] = {}
        for param in self.params:
            value = values.get(param.name)
            if value is None:
                if param.required:
                    raise InvalidRequestError(
                        f"{where}: {param.name} is required ({param.allowed()})",
                        field=param.name)
                continue
            cleaned[param.name] = param.clean(value, where)
            if param.required and not _present(cleaned, param.name):
                raise InvalidRequestError(f"{where}: {param.name} must not be empty",
                                          field=param.name)
        for rule in self.rules:
            problem = rule.check(cleaned)
            if problem:
                raise InvalidRequestError(f"{where}: {problem}", field=rule.field)
        return cleaned

    def _validate_worded(self, values: Mapping[str, Any],
                         words: Mapping[str, str]) -> dict[str, Any]:
        """``validate`` for a form: the same checks in the same order, said in its words."""
        try:
            return self.validate(values)
        except InvalidRequestError as exc:
            failed = exc
        # Found again in the same order, and said in the form's words.
        cleaned: dict[str, Any] = {}
        for param in self.params:
            value = values.get(param.name)
            word = words.get(param.name, param.title)
            if value is None or (param.required and not _present(values, param.name)):
                if param.required:
                    raise InvalidRequestError(_capital(param.missing(word)),
                                              field=param.name) from None
                continue
            cleaned[param.name] = param.clean(value, "", word)
        for rule in self.rules:
            problem = rule.check(cleaned)
            if problem:
                reword = getattr(problem, "reword", None)
                said = reword(words) if reword is not None else problem
                raise InvalidRequestError(_capital(said), field=rule.field) from None
        raise failed


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def operation_named(operations: Iterable[Operation], name: str, label: str, *,
                    service: str = "") -> Operation:
    """The operation called ``name`` among a service's ``operations``; raises
    ``InvalidRequestError`` naming the ones it offers (``label`` is the service's label)."""
    operations = tuple(operations)
    for op in operations:
        if op.name == name:
            return op
    raise InvalidRequestError(f"{label} has no operation {name!r}; it offers "
                              + ", ".join(op.name for op in operations), field="operation",
                              service=service)
