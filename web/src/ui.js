// Small pieces every page uses: status badges and the issuance stepper, copy buttons, form
// fields with their error, dates.
import { html, useState } from "./vendor/preact-htm.js";

const STAGES = ["initializing", "pending_validation", "pending_issuance",
  "pending_deployment", "active"];

const GOOD = new Set(["active", "staging_active", "test_active", "provisioned"]);
const BAD = new Set(["expired", "deleted", "blocked", "moved", "test_failed", "test_blocked",
  "inactive", "initializing_timed_out", "validation_timed_out", "issuance_timed_out",
  "deployment_timed_out", "deletion_timed_out"]);

export function tone(status) {
  if (!status) return "none";
  if (GOOD.has(status)) return "good";
  if (BAD.has(status)) return "bad";
  return "pending";
}

export const words = (s) => (s || "none").replace(/_/g, " ");

// The status as text (never colour alone) with an icon-like mark for its tone.
export function StatusBadge({ status, label }) {
  const t = tone(status);
  const mark = { good: "✓", bad: "✕", pending: "…", none: "–" }[t];
  return html`<span class=${`badge badge-${t}`}>
    <span aria-hidden="true">${mark}</span> ${label ? `${label}: ` : ""}${words(status)}</span>`;
}

// Where a certificate is on its way to active; a failure state is said beside it.
export function Stepper({ status }) {
  const at = STAGES.indexOf(status);
  const failed = tone(status) === "bad";
  return html`<div class="stepper-wrap">
    <ol class="stepper" aria-label="Certificate progress">
      ${STAGES.map((stage, i) => {
        const state = at < 0 ? "todo" : i < at ? "done" : i === at ? "current" : "todo";
        return html`<li class=${`step step-${state}`} aria-current=${i === at ? "step" : undefined}>
          <span class="step-dot" aria-hidden="true"></span>${words(stage)}</li>`;
      })}
    </ol>
    ${failed ? html`<p class="step-failed" role="status">Stopped: ${words(status)}</p>` : ""}
  </div>`;
}

export function CopyButton({ text, label }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch (e) {
      setCopied(false);
    }
  };
  return html`<button type="button" class="copy" onClick=${copy}
      aria-label=${`Copy ${label}`}>${copied ? "Copied" : "Copy"}</button>
    <span class="visually-hidden" aria-live="polite">${copied ? `${label} copied` : ""}</span>`;
}

// A value to hand to the customer: its label, the value in monospace, a copy button.
export function CopyValue({ label, value }) {
  return html`<div class="copy-value">
    <dt>${label}</dt>
    <dd><code>${value}</code> <${CopyButton} text=${value} label=${label} /></dd>
  </div>`;
}

// A labelled input with its hint and the API's error for it, wired for screen readers.
export function Field({ id, label, hint, error, children }) {
  return html`<div class=${`field${error ? " field-error" : ""}`}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : ""}
    ${error ? html`<p class="error" id=${`${id}-error`} role="alert">${error}</p>` : ""}
  </div>`;
}

// aria-describedby for the input of a Field.
export const describedBy = (id, hint, error) =>
  [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;

export function ErrorBox({ error }) {
  if (!error) return "";
  return html`<div class="alert" role="alert">${error.message || String(error)}</div>`;
}

export function date(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 10);
}

export function dateTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
