"""`EventComposer`: fill in one event from a form built from the catalog, see it validated live, send it."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from adrop_kit.errors import AdropError
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.validate.event import validate_event
from adrop_kit.validate.report import EventReport
from adrop_kit.widgets import _logic as logic
from adrop_kit.widgets._base import KeyInput, View, small
from adrop_kit.widgets._target import WIDGET_RETRY, Target

_STYLE = {"description_width": "140px"}
_ITEMS_HINT = '[{"item_id": "SKU-1", "price": 1000, "quantity": 1}]'


def _input(field: logic.Field) -> w.Widget:
    """One input per parameter, by type; an empty input means the key is absent."""
    common = {"description": field.label, "style": _STYLE, "layout": w.Layout(width="460px")}
    if field.kind == "platform":
        return w.Dropdown(options=logic.platform_options(), value=logic.ABSENT, **common)
    if field.kind == "boolean":
        return w.Dropdown(options=(logic.ABSENT, "true", "false"), value=logic.ABSENT, **common)
    if field.kind == "items":
        return w.Textarea(placeholder=_ITEMS_HINT, rows=3, **common)
    placeholder = {"number": "a number (empty: absent)", "integer": "an integer (empty: absent)"}
    return w.Text(placeholder=placeholder.get(field.kind, "(empty: absent)"), continuous_update=True, **common)


class EventComposer(View):
    """Pick an event, fill its form, watch the violations (with rule ids) update as you type, send it.

    Sends go to `endpoint` with the app key (`app_key`, the key box, or $ADROP_APP_KEY), or, with no
    endpoint, to an embedded local server started on the first send. Dry-run is on by default: it shows
    the request with the key masked and sends nothing.
    """

    def __init__(self, catalog: Catalog | str | None = None, endpoint: str | None = None,
                 app_key: str | None = None, *, server: Any = None, event: str | None = None) -> None:
        self.catalog = resolve(catalog)
        self.target = Target(endpoint, app_key, server=server, catalog=self.catalog)
        self.last_result: Any = None
        self._fields: list[logic.Field] = []
        self.fields: dict[str, w.Widget] = {}

        self.event = w.Dropdown(options=self.catalog.names, value=event or self.catalog.names[0],
                                description="event", style=_STYLE)
        self.example_button = w.Button(description="Fill an example", icon="magic",
                                       tooltip="fill every field with valid values")
        self.form = w.VBox()
        self.verdict = w.HTML()
        self.preview = w.HTML()
        self.where = w.HTML()
        self.key = KeyInput(self.target, on_change=self._show_target)
        self.dry_run = w.ToggleButton(value=True, description="dry run", icon="eye",
                                      tooltip="show the request (key masked) instead of sending it")
        self.validate_first = w.Checkbox(value=True, description="validate before sending", indent=False,
                                         layout=w.Layout(width="auto"))
        self.send_button = w.Button(description="Send", button_style="primary", icon="paper-plane")
        self.reply = w.HTML()

        self.event.observe(lambda _: self._build_form(), names="value")
        self.example_button.on_click(lambda _: self.fill_example())
        self.send_button.on_click(lambda _: self.send())
        self.dry_run.observe(self._dry_run_changed, names="value")
        self._dry_run_changed({"new": self.dry_run.value})

        self._build_form()
        self._show_target()
        key_row = [self.key.password] if not self.target.local else []
        self.widget = w.VBox([
            w.HBox([self.event, self.example_button]),
            small("required parameters are marked *; an empty field is left out of the payload"),
            self.form,
            w.HTML("<b>Validation</b>"), self.verdict,
            w.HTML("<b>Payload</b>"), self.preview,
            w.HTML("<b>Send</b>"), self.where, *key_row,
            w.HBox([self.dry_run, self.validate_first, self.send_button]),
            self.reply,
        ])
        self.widget.add_class("adrop-composer")

    # -- the form ---------------------------------------------------------------------------
    def _build_form(self) -> None:
        keep = {name: self.fields[name].value for name in ("uid", "platform") if name in self.fields}
        keep.setdefault("uid", "user-1")
        old = list(self.fields.values())
        self._fields = logic.form_fields(self.catalog[self.event.value])
        self.fields = {f.name: _input(f) for f in self._fields}
        for name, value in keep.items():
            self.fields[name].value = value
        for widget in self.fields.values():
            widget.observe(lambda _: self.refresh(), names="value")
        self.form.children = tuple(self.fields.values())
        for widget in old:  # the previous event's inputs leave the widget registry too
            widget.close()
        self.reply.value = ""
        self.refresh()

    def fill_example(self) -> None:
        """Fill every field with a valid, warning-free example."""
        for name, text in logic.example_values(self.catalog[self.event.value]).items():
            if name in self.fields:
                self.fields[name].value = text

    def _values(self) -> dict[str, Any]:
        return {name: widget.value for name, widget in self.fields.items()}

    def _payload_and_notes(self) -> tuple[dict[str, Any], list[str]]:
        return logic.payload_from_form(self.event.value, self._values(), self._fields)

    @property
    def payload(self) -> dict[str, Any]:
        """The payload the form describes now."""
        return self._payload_and_notes()[0]

    @property
    def report(self) -> EventReport:
        return validate_event(self.payload, catalog=self.catalog)

    def refresh(self) -> None:
        """Re-validate and re-render (runs on every change of a field)."""
        payload, notes = self._payload_and_notes()
        self.verdict.value = logic.violations_html(validate_event(payload, catalog=self.catalog), notes)
        self.preview.value = logic.json_html(payload)

    # -- sending ----------------------------------------------------------------------------
    def _show_target(self) -> None:
        self.where.value = f"<span style='color:#444'>to {self.target.describe()}</span>"

    def _dry_run_changed(self, change: dict[str, Any]) -> None:
        self.send_button.description = "Show request" if change["new"] else "Send"
        self.send_button.button_style = "" if change["new"] else "primary"

    def send(self) -> Any:
        """Send the payload (or, in dry-run, show the request with the key masked). Returns the SendResult."""
        payload = self.payload
        try:
            with self.target.sender(dry_run=self.dry_run.value, validate=self.validate_first.value,
                                    progress=False, retry=WIDGET_RETRY) as sender:
                result = sender.send(payload)
                request = sender.render_request(payload) if self.dry_run.value else None
        except (AdropError, ValueError, OSError) as exc:
            self.reply.value = f"<div class='adrop-reply' style='color:#b00020'>cannot send: {exc}</div>"
            self.last_result = None
            return None
        self.last_result = result
        self._show_target()
        parts = [logic.reply_html(result)]
        if request is not None:
            parts.append("<div style='color:#666'>dry run: nothing was sent. The request would be:</div>")
            parts.append(logic.pre_html(request, "adrop-request"))
        self.reply.value = "".join(parts)
        return result


__all__ = ["EventComposer"]
