// The staff console (issue 15): plain JavaScript, no build step. Signs in at the tenant's Cognito user pool
// (config.json names its endpoint and app client), then calls the API's /staff routes with the ID token.
// Data is put on the page with textContent only (never as HTML). A session ends after 15 minutes without a
// click or a key; the token itself lasts an hour.
"use strict";

const IDLE_MINUTES = 15;
const state = { config: null, token: null, me: null, lastActive: Date.now() };

const CALL_RESULTS = ["no_answer", "call_back", "booked", "declined", "wrong_number"];
const RESULT_LABELS = { no_answer: "No answer", call_back: "Call back later", booked: "Booked",
                        declined: "Declined", wrong_number: "Wrong number" };
const VIEW_LABELS = { queue: "Work queue", recalls: "Recall list", schedule: "Schedule", intake: "New patients",
                      campaigns: "Campaigns", reports: "Reports", audit: "Audit log" };
const REPORT_LABELS = { "recall-daily": "Recall, daily", "intake-daily": "New patients, daily",
                        "referral-monthly": "Referral follow-up, monthly", "management-monthly": "Management, monthly" };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  }
  return node;
}

function show(...nodes) {
  const view = document.getElementById("view");
  view.replaceChildren(...nodes.flat(Infinity).filter((node) => node !== ""));
  const heading = view.querySelector("h1");
  if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
}

function zoneOf(clinic) {
  return state.me?.time_zones?.[clinic] || state.me?.time_zones?.[state.me?.clinic_id] || undefined;
}

// Times as the clinic reads them: in its own time zone, whatever the computer's.
function when(iso, clinic) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short", timeZone: zoneOf(clinic) }) : "";
}

function clock(iso, clinic) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone: zoneOf(clinic) });
}

async function api(path, options = {}) {
  const response = await fetch(state.config.apiBase + path, {
    ...options,
    headers: { Authorization: state.token, ...(options.body ? { "Content-Type": "application/json" } : {}),
               ...(options.idempotency ? { "Idempotency-Key": options.idempotency } : {}) },
  });
  if (response.status === 401) { signOut("Your session has ended: sign in again."); throw new Error("signed out"); }
  return response;
}

async function json(path, options) {
  const response = await api(path, options);
  const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body?.error || `the server answered ${response.status}`);
  return body;
}

// --- sign-in ------------------------------------------------------------------------------------
async function cognito(action, body) {
  const response = await fetch(state.config.cognito.endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}` },
    body: JSON.stringify({ ClientId: state.config.cognito.clientId, ...body }),
  });
  return { ok: response.ok, answer: await response.json() };
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const username = form.username.value;
  const { ok, answer } = await cognito("InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: username, PASSWORD: form.password.value } });
  form.password.value = "";
  await signedIn(ok, answer, username);
}

// Cognito may ask more before it signs someone in: a new password (a first sign-in), or an MFA code.
const CHALLENGES = {
  NEW_PASSWORD_REQUIRED: { label: "New password (12 or more characters, upper and lower case, a digit, a symbol)",
                           type: "password", autocomplete: "new-password", field: "NEW_PASSWORD" },
  SOFTWARE_TOKEN_MFA: { label: "Code from your authenticator app", type: "text", autocomplete: "one-time-code",
                        field: "SOFTWARE_TOKEN_MFA_CODE" },
};

async function signedIn(ok, answer, username) {
  if (ok && answer.AuthenticationResult) {
    state.token = answer.AuthenticationResult.IdToken;
    sessionStorage.setItem("revisit-token", state.token);
    await start();
    return;
  }
  const challenge = CHALLENGES[answer.ChallengeName];
  if (ok && challenge) {
    const input = el("input", { id: "challenge", name: "challenge", type: challenge.type, required: true,
                                autocomplete: challenge.autocomplete });
    const form = el("form", { id: "challenge-form", onsubmit: async (event) => {
      event.preventDefault();
      const next = await cognito("RespondToAuthChallenge", { ChallengeName: answer.ChallengeName, Session: answer.Session,
        ChallengeResponses: { USERNAME: username, [challenge.field]: input.value } });
      form.remove(); document.getElementById("sign-in-form").hidden = false;
      await signedIn(next.ok, next.answer, username);
    } }, el("label", { for: "challenge" }, challenge.label), input, el("button", { type: "submit" }, "Continue"));
    document.getElementById("sign-in-form").hidden = true;
    document.getElementById("sign-in-form").after(form);
    message("");
    input.focus();
    return;
  }
  message(answer.__type === "NotAuthorizedException" ? "Wrong user name or password." :
          answer.__type === "InvalidPasswordException" ? "That password is too simple: try a longer one." :
          answer.__type === "CodeMismatchException" ? "That code is not right: try the current one." :
          "Sign-in failed: try again.");
}

function message(text) {
  const box = document.getElementById("sign-in-message");
  box.textContent = text;
  box.hidden = !text;
}

function signOut(reason) {
  state.token = null;
  state.me = null;
  sessionStorage.removeItem("revisit-token");
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("view").replaceChildren();
  history.replaceState(null, "", location.pathname);  // no patient's page left for the next person
  document.getElementById("sign-in").hidden = false;
  message(reason || "");
  document.getElementById("username").focus();
}

function idle() {
  return state.token && Date.now() - state.lastActive > IDLE_MINUTES * 60000;
}

function active() {  // a click or a key: after a long pause it signs out instead of acting
  if (idle()) signOut("You were away for a while: sign in again.");
  else state.lastActive = Date.now();
}

// --- navigation ---------------------------------------------------------------------------------
async function start() {
  state.me = await json("/staff/me");
  document.getElementById("sign-in").hidden = true;
  document.getElementById("who").textContent = `${state.me.name} · ${state.me.role.replace("_", " ")}` +
    (state.me.clinic_id ? ` · ${state.me.clinic_id}` : "");
  document.getElementById("sign-out").hidden = false;
  const nav = document.getElementById("nav");
  nav.replaceChildren(...Object.keys(VIEW_LABELS).filter((v) => state.me.views.includes(v)).map((view) =>
    el("button", { type: "button", "data-view": view, onclick: () => { location.hash = view; } }, VIEW_LABELS[view])));
  nav.hidden = false;
  state.lastActive = Date.now();
  if (location.hash === "#queue") route(); else location.hash = "queue";  // every session starts on its queue
}

function route() {
  if (!state.me) return;
  const [view, id] = location.hash.slice(1).split("/");
  for (const button of document.querySelectorAll("#nav button")) {
    button.toggleAttribute("aria-current", button.dataset.view === view);
    if (button.dataset.view === view) button.setAttribute("aria-current", "page");
  }
  const views = { queue: queueView, recalls: recallsView, schedule: scheduleView, intake: intakeView,
                  campaigns: campaignsView, reports: reportsView, audit: auditView,
                  patient: () => patientView(decodeURIComponent(id || "")) };
  (views[view] || queueView)().catch((error) => show(el("h1", {}, "Something went wrong"), el("p", { class: "notice" }, error.message)));
}

// A form's handler: what goes wrong is said on the page (a refused filter, a lost connection), not swallowed.
function guarded(handler) {
  return async (event) => {
    event?.preventDefault?.();
    try { await handler(event); } catch (error) {
      if (!state.token) return;
      const box = document.getElementById("form-error") || el("p", { id: "form-error", class: "notice", role: "alert" });
      box.textContent = error.message;
      document.getElementById("view").prepend(box);
    }
  };
}

function clinicPicker(id, onchange) {
  const select = el("select", { id, onchange }, state.me.clinics.map((c) => el("option", { value: c }, c)));
  return [el("label", { for: id }, "Clinic"), select];
}

// --- the work queue ------------------------------------------------------------------------------
async function queueView() {
  const clinic = document.getElementById("queue-clinic")?.value || state.me.clinic_id || state.me.clinics[0];
  const later = document.getElementById("queue-later")?.checked || false;
  const found = await json(`/staff/clinics/${encodeURIComponent(clinic)}/queue${later ? "?later=true" : ""}`);
  const picker = clinicPicker("queue-clinic", guarded(queueView));
  picker[1].value = clinic;
  const laterBox = el("input", { id: "queue-later", type: "checkbox", checked: later, onchange: guarded(queueView) });
  const rows = found.tasks.map((task) => el("tr", { id: `task-${task.task_id}` },
    el("td", {}, when(task.due_at, clinic)), el("td", {}, task.priority), el("td", {}, task.title),
    el("td", {}, task.patient_id ? [el("a", { href: `#patient/${encodeURIComponent(task.patient_id)}` }, task.patient?.name || task.patient_id),
      task.patient ? el("div", { class: "muted" }, `${task.patient.phone || "no phone"}${task.patient.phone_invalid ? " (wrong number)" : ""} · ${task.patient.language}`) : ""] : ""),
    el("td", {}, task.recall ? `${task.recall.types.join(", ")}, due ${task.recall.due}; reached ${task.recall.attempts}×` :
      task.lead ? `${task.lead.procedure}, by ${task.lead.due}; ${task.lead.calls_made} calls` : ""),
    el("td", {}, task.action === "call" ? el("button", { type: "button", onclick: (e) => callForm(task, e.target.closest("tr"), clinic) }, "Record call") :
      task.action === "done" ? el("button", { type: "button", onclick: guarded(async () => {
        await json(`/staff/tasks/${encodeURIComponent(task.task_id)}/done`, { method: "POST" }); await queueView(); }) }, "Done") :
      task.action === "assign" ? el("button", { type: "button", onclick: (e) => assignForm(task, e.target.closest("tr")) }, "Assign") :
      task.action === "lead-call" ? el("button", { type: "button", onclick: (e) => leadCallForm(task, e.target.closest("tr"), clinic) }, "Record call") : "")));
  show(el("h1", {}, `Work queue: ${state.me.role.replace("_", " ")}`),
       el("form", { onsubmit: guarded(queueView) }, picker, el("div", {}, laterBox, el("label", { for: "queue-later" }, ` also later tasks (${found.later})`))),
       el("p", { class: "muted" }, `Times in ${found.time_zone}.`),
       found.tasks.length ? el("table", {}, el("caption", { class: "muted" }, `${found.tasks.length} open tasks, the day's first`),
         el("thead", {}, el("tr", {}, ["Due", "Priority", "Task", "Patient", "Due for", ""].map((h) => el("th", { scope: "col" }, h)))),
         el("tbody", {}, rows)) : el("p", {}, later ? "Nothing to do: the queue is empty." : "Nothing due today."));
}

function callForm(task, row, clinic) {
  const id = `call-${task.task_id}`;
  const open = document.getElementById(`${id}-form`);
  if (open) { open.querySelector("select").focus(); return; }  // one form per task, however often it is clicked
  const result = el("select", { id: `${id}-result`, name: "result" }, CALL_RESULTS.map((r) => el("option", { value: r }, RESULT_LABELS[r])));
  const reason = el("select", { id: `${id}-reason`, name: "reason", disabled: true }, el("option", { value: "" }, "(choose a reason)"),
    state.me.refusal_reasons.map((r) => el("option", { value: r }, state.me.refusal_labels?.[r] || r.replaceAll("-", " "))));
  result.addEventListener("change", () => { reason.disabled = result.value !== "declined"; });
  const status = el("p", { role: "status" });
  const save = el("button", { type: "submit", class: "primary" }, "Save");
  const form = el("form", { id: `${id}-form`, "aria-label": `Call outcome for ${task.patient?.name || task.task_id}`, onsubmit: async (event) => {
    event.preventDefault();
    status.textContent = ""; status.className = "";
    if (result.value === "booked") { await slotsFor(task, form, status, clinic); return; }
    save.disabled = true;
    try {
      await json(`/staff/tasks/${encodeURIComponent(task.task_id)}/call-outcome`, { method: "POST",
        body: JSON.stringify({ result: result.value, ...(reason.value && !reason.disabled ? { reason: reason.value } : {}) }) });
      status.className = "ok"; status.textContent = "Recorded."; setTimeout(() => { if (location.hash === "#queue") queueView(); }, 800);
    } catch (error) { save.disabled = false; status.className = "notice"; status.textContent = error.message; }
  } }, el("div", {}, el("label", { for: result.id }, "Result"), result),
       el("div", {}, el("label", { for: reason.id }, "Reason (declined)"), reason), save, status);
  row.after(el("tr", {}, el("td", { colspan: "6" }, form)));
  result.focus();
}

// --- a doctor's order (referral follow-up): the senior registrar assigns it, the registrar calls --------
function formRow(row, id, form) {
  row.after(el("tr", {}, el("td", { colspan: "6" }, form)));
  form.querySelector("select, input")?.focus();
}

function assignForm(task, row) {
  const id = `assign-${task.task_id}`;
  if (document.getElementById(`${id}-form`)) return;
  const who = el("select", { id: `${id}-registrar` }, task.lead.registrars.map((r) => el("option", { value: r.staff_id }, r.name)));
  const status = el("p", { role: "status" });
  const form = el("form", { id: `${id}-form`, "aria-label": `Assign ${task.lead.procedure}`, onsubmit: async (event) => {
    event.preventDefault();
    try {
      await json(`/staff/leads/${encodeURIComponent(task.lead_id)}/assignment`, { method: "POST", body: JSON.stringify({ registrar_id: who.value }) });
      status.className = "ok"; status.textContent = "Assigned."; setTimeout(() => { if (location.hash === "#queue") queueView(); }, 800);
    } catch (error) { status.className = "notice"; status.textContent = error.message; }
  } }, el("div", {}, el("label", { for: who.id }, "Registrar who calls"), who), el("button", { type: "submit", class: "primary" }, "Assign"), status);
  formRow(row, id, form);
}

function leadCallForm(task, row, clinic) {
  const id = `lead-${task.task_id}`;
  if (document.getElementById(`${id}-form`)) return;
  const outcome = el("select", { id: `${id}-outcome` }, [["no_answer", "No answer"], ["refused", "Refused"], ["booked", "Booked"]].map(([v, l]) => el("option", { value: v }, l)));
  const reason = el("select", { id: `${id}-reason`, disabled: true }, el("option", { value: "" }, "(choose a reason)"),
    state.me.refusal_reasons.map((r) => el("option", { value: r }, state.me.refusal_labels?.[r] || r)));
  const later = el("input", { id: `${id}-later`, type: "checkbox", disabled: true });
  outcome.addEventListener("change", () => { reason.disabled = later.disabled = outcome.value !== "refused"; });
  const status = el("p", { role: "status" });
  const send = async (extra) => {
    try {
      await json(`/staff/leads/${encodeURIComponent(task.lead_id)}/call-outcome`, { method: "POST", body: JSON.stringify({
        outcome: outcome.value, ...(outcome.value === "refused" ? { refusal_reason: reason.value || null, wants_contact_later: later.checked } : {}), ...extra }) });
      status.className = "ok"; status.textContent = "Recorded."; setTimeout(() => { if (location.hash === "#queue") queueView(); }, 800);
    } catch (error) { status.className = "notice"; status.textContent = error.message; }
  };
  const form = el("form", { id: `${id}-form`, "aria-label": `Call about ${task.lead.procedure}`, onsubmit: async (event) => {
    event.preventDefault();
    if (outcome.value !== "booked") { await send({}); return; }
    if (document.getElementById(`${id}-slot`)) return;
    const found = await json(`/staff/leads/${encodeURIComponent(task.lead_id)}/slots`);
    const choice = el("select", { id: `${id}-slot` }, found.slots.map((s) => el("option", { value: `${s.provider_id}|${s.starts_at}` }, `${when(s.starts_at, clinic)} · ${s.provider_name}`)));
    form.append(el("div", {}, el("label", { for: choice.id }, `Free times (${found.appointment_type})`), choice),
      el("button", { type: "button", class: "primary", onclick: () => { const [provider_id, starts_at] = choice.value.split("|"); send({ provider_id, starts_at }); } }, "Book this time"));
    choice.focus();
  } }, el("div", {}, el("label", { for: outcome.id }, "Outcome"), outcome), el("div", {}, el("label", { for: reason.id }, "Reason (refused)"), reason),
    el("div", {}, later, el("label", { for: later.id }, " wants to be contacted later")), el("button", { type: "submit", class: "primary" }, "Save"), status);
  formRow(row, id, form);
}

async function slotsFor(task, form, status, clinic) {
  const existing = document.getElementById(`slot-${task.task_id}`);
  if (existing) { existing.focus(); return; }
  const found = await json(`/staff/tasks/${encodeURIComponent(task.task_id)}/slots`);
  const choice = el("select", { id: `slot-${task.task_id}`, name: "slot" }, found.slots.map((s) =>
    el("option", { value: `${s.provider_id}|${s.starts_at}` }, `${when(s.starts_at, clinic)} · ${s.provider_name || s.provider_id}`)));
  const book = el("button", { type: "button", class: "primary", onclick: async () => {
    const [provider_id, starts_at] = choice.value.split("|");
    try {
      await json(`/staff/tasks/${encodeURIComponent(task.task_id)}/booking`, { method: "POST", body: JSON.stringify({ provider_id, starts_at }) });
      status.className = "ok"; status.textContent = "Booked, and the call recorded.";
      setTimeout(() => { if (location.hash === "#queue") queueView(); }, 800);
    } catch (error) { status.className = "notice"; status.textContent = error.message; }
  } }, "Book this time");
  form.append(el("div", {}, el("label", { for: choice.id }, `Free times (${found.appointment_type})`), choice), book);
  choice.focus();
}

// --- the recall list -----------------------------------------------------------------------------
async function recallsView(event) {
  event?.preventDefault?.();
  document.getElementById("form-error")?.remove();
  const form = document.getElementById("recall-filters");
  const values = form ? Object.fromEntries(new FormData(form)) : { clinic: state.me.clinic_id || state.me.clinics[0] };
  const query = new URLSearchParams(Object.entries(values).filter(([k, v]) => v && k !== "clinic"));
  const clinic = values.clinic || state.me.clinics[0];
  const rows = await json(`/staff/clinics/${encodeURIComponent(clinic)}/recalls?${query}`);
  const picker = clinicPicker("recall-clinic", null);
  picker[1].name = "clinic"; picker[1].value = clinic;
  const field = (name, label, input) => el("div", {}, el("label", { for: `recall-${name}` }, label), input);
  const filters = el("form", { id: "recall-filters", onsubmit: guarded(recallsView) }, el("div", {}, picker),
    field("recall_type", "Recall type", el("input", { id: "recall-recall_type", name: "recall_type", value: values.recall_type || "", size: "10" })),
    field("status", "Status", el("select", { id: "recall-status", name: "status" }, ["", "Pending", "Contacted", "ManualReview"].map((s) =>
      el("option", { value: s, selected: s === (values.status || "") }, s || "any")))),
    field("rung", "Rung", el("input", { id: "recall-rung", name: "rung", type: "number", min: "0", max: "20", value: values.rung || "" })),
    field("min_days_overdue", "Days overdue, at least", el("input", { id: "recall-min_days_overdue", name: "min_days_overdue", type: "number", value: values.min_days_overdue || "" })),
    el("button", { type: "submit", class: "primary" }, "Filter"),
    el("button", { type: "button", onclick: () => exportCsv(clinic, query) }, "Export CSV"));
  show(el("h1", {}, `Recall list: ${clinic}`), filters,
       el("table", {}, el("caption", { class: "muted" }, `${rows.length} patients due or overdue, most overdue first`),
         el("thead", {}, el("tr", {}, ["Patient", "Due", "Days overdue", "For", "Status", "Rung", "Last contact", "Next"].map((h) => el("th", { scope: "col" }, h)))),
         el("tbody", {}, rows.map((r) => el("tr", {},
           el("td", {}, el("a", { href: `#patient/${encodeURIComponent(r.patient_id)}` }, `${r.patient_name} (${r.patient_id})`)),
           el("td", {}, r.recall_due_date), el("td", {}, String(r.days_overdue)), el("td", {}, r.recall_types.join(", ")),
           el("td", {}, r.status), el("td", {}, String(r.rung)), el("td", {}, `${r.last_channel || ""} ${when(r.last_contact_at, clinic)}`),
           el("td", {}, when(r.next_contact_at, clinic)))))));
}

async function exportCsv(clinic, query) {
  const response = await api(`/staff/clinics/${encodeURIComponent(clinic)}/recalls?${query}&format=csv`);
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `recalls-${clinic}.csv` });
  document.body.append(link); link.click(); link.remove();
}

// --- a patient's timeline ------------------------------------------------------------------------
async function patientView(patientId) {
  const t = await json(`/staff/patients/${encodeURIComponent(patientId)}/timeline`);
  const p = t.patient;
  const at = (iso) => when(iso, p.clinic_id);
  const table = (caption, headers, rows) => rows.length ? el("table", {}, el("caption", { class: "muted" }, caption),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, rows)) : el("p", { class: "muted" }, `${caption}: none.`);
  show(el("h1", {}, `${p.first_name} ${p.last_name} (${p.patient_id})`),
    el("p", { class: "muted" }, `Times in ${zoneOf(p.clinic_id) || "your browser's zone"}.`),
    el("p", {}, `${p.clinic_id} · ${p.language} · ${p.phone || "no phone"} · ${p.email || "no email"} · SMS ${p.sms_consent ? "yes" : "no"}, email ${p.email_consent ? "yes" : "no"}` +
      `${p.opted_out ? " · opted out" : ""}${p.unsubscribed?.length ? ` · no ${p.unsubscribed.join(", ")} messages` : ""} · recall: ${p.recall_status || "none"}`),
    el("h2", {}, "Appointments"),
    table("Appointments", ["When", "Visit", "Provider", "Status", "Confirmation", "Booked by"], t.appointments.map((a) => el("tr", {},
      el("td", {}, at(a.starts_at)), el("td", {}, a.appointment_type), el("td", {}, a.provider_id), el("td", {}, a.status),
      el("td", {}, a.confirmation || ""), el("td", {}, a.booked_by)))),
    el("h2", {}, "Messages, calls and replies"),
    table("Contacts", ["When", "Channel", "Step", "Outcome", "Message as sent, or what happened", "Message id"], t.contacts.map((c) => el("tr", {},
      el("td", {}, at(c.at)), el("td", {}, c.channel), el("td", {}, c.step), el("td", {}, c.outcome),
      el("td", { class: "message" }, c.text || c.detail || ""), el("td", {}, c.message_id || c.task_id || "")))),
    el("h2", {}, "Staff tasks and calls"),
    table("Staff tasks", ["Created", "Task", "Status", "Result", "Reason", "Closed"], t.tasks.map((k) => el("tr", {},
      el("td", {}, at(k.created_at)), el("td", {}, k.kind.replaceAll("_", " ")), el("td", {}, k.status), el("td", {}, k.result || ""),
      el("td", {}, k.reason || ""), el("td", {}, at(k.closed_at))))),
    el("h2", {}, "Recall cycles"),
    table("Recall cycles", ["Due", "For", "Status", "Opened", "Closed", "Why"], t.cycles.map((c) => el("tr", {},
      el("td", {}, c.recall_due_date), el("td", {}, c.recall_types.join(", ")), el("td", {}, c.status), el("td", {}, at(c.opened_at)),
      el("td", {}, at(c.closed_at)), el("td", {}, c.close_reason || "")))),
    el("h2", {}, "Workflow executions"),
    el("ul", {}, t.executions.map((x) => el("li", {}, x.console_url ? el("a", { href: x.console_url, target: "_blank", rel: "noopener noreferrer" },
      `${x.workflow}: ${x.name}`) : `${x.workflow}: ${x.name}`))),
    t.clinical ? [el("h2", {}, "Clinical record"),
      table("Visits", ["Visit", "Findings", "Notes"], t.visits.map((v) => el("tr", {}, el("td", {}, v.appointment_id),
        el("td", {}, (v.findings || []).map((f) => [f.finding, f.tooth].filter(Boolean).join(" ")).join("; ")), el("td", {}, v.note || "")))),
      table("Treatment plans", ["Plan", "Status", "Items"], t.treatment_plans.map((pl) => el("tr", {}, el("td", {}, pl.plan_id || ""),
        el("td", {}, pl.status || ""), el("td", {}, (pl.items || []).map((i) => i.code || i.service_code || "").join(", ")))))] : []);
}

// --- the schedule ---------------------------------------------------------------------------------
async function scheduleView(event) {
  event?.preventDefault?.();
  const clinic = document.getElementById("schedule-clinic")?.value || state.me.clinic_id || state.me.clinics[0];
  const asked = document.getElementById("schedule-day")?.value;
  const found = await json(`/staff/clinics/${encodeURIComponent(clinic)}/schedule${asked ? `?day=${asked}` : ""}`);
  const picker = clinicPicker("schedule-clinic", null);
  picker[1].value = clinic;
  const sections = found.providers.map((provider, index) => el("section", { "aria-labelledby": `provider-${index}` },
    el("h2", { id: `provider-${index}` }, provider.name),
    provider.appointments.length ? el("table", {},
      el("thead", {}, el("tr", {}, ["Time", "Patient", "Visit", "Status", "Confirmation", ""].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, provider.appointments.map((a) => el("tr", {},
        el("td", {}, `${clock(a.starts_at, clinic)}–${clock(a.ends_at, clinic)}`),
        el("td", {}, el("a", { href: `#patient/${encodeURIComponent(a.patient_id)}` }, a.patient_id)),
        el("td", {}, a.appointment_type), el("td", {}, a.status), el("td", {}, a.confirmation || ""),
        el("td", {}, a.status === "booked" ? appointmentActions(a, clinic, found.day) : ""))))) :
      el("p", { class: "muted" }, "Nothing booked.")));
  show(el("h1", {}, `Schedule: ${clinic}, ${found.day}`),
    el("p", { class: "muted" }, `Times in ${found.time_zone}.`),
    el("form", { onsubmit: guarded(scheduleView) }, el("div", {}, picker),
      el("div", {}, el("label", { for: "schedule-day" }, "Day"), el("input", { id: "schedule-day", type: "date", value: found.day })),
      el("button", { type: "submit", class: "primary" }, "Show")), bookingForm(clinic, found.day), sections);
}

// A visit booked from the schedule: the patient's id (from their file or the caller), the visit, a free time.
function bookingForm(clinic, day) {
  const patient = el("input", { id: "book-patient", name: "patient", required: true, size: "12", autocomplete: "off" });
  const kind = el("select", { id: "book-type" }, (state.me.appointment_types || []).map((t) => el("option", { value: t }, t)));
  const times = el("select", { id: "book-time", disabled: true }, el("option", { value: "" }, "(find times first)"));
  const status = el("span", { role: "status" });
  const find = el("button", { type: "button", onclick: guarded(async () => {
    const free = await json(`/staff/clinics/${encodeURIComponent(clinic)}/availability?appointment_type=${encodeURIComponent(kind.value)}&day=${day}`);
    times.replaceChildren(...(free.length ? free.map((t) => el("option", { value: `${t.provider_id}|${t.starts_at}` }, `${clock(t.starts_at, clinic)} · ${t.provider_id}`)) :
      [el("option", { value: "" }, "no free time this day")]));
    times.disabled = !free.length;
    times.focus();
  }) }, "Find free times");
  const key = `schedule-${Date.now()}`;  // one booking per form, however often Book is clicked
  const form = el("form", { id: "book-form", "aria-label": "Book a visit", onsubmit: async (event) => {
    event.preventDefault();
    if (!times.value) { status.className = "notice"; status.textContent = "Choose a time first."; return; }
    const [provider_id, starts_at] = times.value.split("|");
    try {
      await json("/staff/appointments", { method: "POST", headers: {}, body: JSON.stringify({ patient_id: patient.value.trim(),
        clinic_id: clinic, appointment_type: kind.value, provider_id, starts_at }), idempotency: key });
      await scheduleView();
    } catch (error) { status.className = "notice"; status.textContent = error.message; }
  } }, el("div", {}, el("label", { for: patient.id }, "Patient id"), patient), el("div", {}, el("label", { for: kind.id }, "Visit"), kind),
    find, el("div", {}, el("label", { for: times.id }, "Time"), times), el("button", { type: "submit", class: "primary" }, "Book"), status);
  return el("details", {}, el("summary", {}, "Book a visit this day"), form);
}

function appointmentActions(a, clinic, day) {
  const path = `/staff/patients/${encodeURIComponent(a.patient_id)}/appointments/${encodeURIComponent(a.appointment_id)}`;
  const status = el("span", { role: "status" });
  const act = async (action, body) => {
    try { await json(`${path}/${action}`, { method: "POST", body: JSON.stringify(body) }); await scheduleView(); }
    catch (error) { status.className = "notice"; status.textContent = error.message; }
  };
  const box = el("div", {});
  const confirm = a.confirmation !== "confirmed" ?
    el("button", { type: "button", onclick: () => act("confirmation", { status: "confirmed" }) }, "Confirmed by phone") : "";
  const move = el("button", { type: "button", onclick: async () => {
    const times = await json(`/staff/clinics/${encodeURIComponent(clinic)}/availability?appointment_type=${encodeURIComponent(a.appointment_type)}&day=${day}`);
    const choice = el("select", { id: `move-${a.appointment_id}`, "aria-label": "New time" },
      times.map((t) => el("option", { value: `${t.provider_id}|${t.starts_at}` }, `${clock(t.starts_at, clinic)} · ${t.provider_id}`)));
    box.replaceChildren(choice, el("button", { type: "button", onclick: () => {
      const [provider_id, starts_at] = choice.value.split("|"); act("reschedule", { provider_id, starts_at });
    } }, "Move here"), status);
    choice.focus();
  } }, "Move");
  const cancel = el("button", { type: "button", onclick: () => {
    box.replaceChildren(el("span", {}, "Cancel this appointment? "),
      el("button", { type: "button", onclick: () => act("cancel", { reason: "cancelled at the front desk" }) }, "Yes, cancel"),
      el("button", { type: "button", onclick: () => scheduleView() }, "No"), status);
  } }, "Cancel");
  box.append(confirm, move, cancel, status);
  return box;
}

// --- new patients (I15) and reactivation campaigns (A8) -------------------------------------------------
async function intakeView(event) {
  event?.preventDefault?.();
  const clinic = document.getElementById("intake-clinic")?.value || state.me.clinic_id || state.me.clinics[0];
  const asked = document.getElementById("intake-day")?.value;
  const found = await json(`/staff/clinics/${encodeURIComponent(clinic)}/new-patients${asked ? `?day=${asked}` : ""}`);
  const picker = clinicPicker("intake-clinic", null);
  picker[1].value = clinic;
  show(el("h1", {}, `New patients: ${clinic}, ${found.day}`),
    el("form", { onsubmit: guarded(intakeView) }, el("div", {}, picker),
      el("div", {}, el("label", { for: "intake-day" }, "Day"), el("input", { id: "intake-day", type: "date", value: found.day })),
      el("button", { type: "submit", class: "primary" }, "Show")),
    found.patients.length ? el("table", {}, el("caption", { class: "muted" }, `${found.patients.length} new patients, first visits in ${found.time_zone}`),
      el("thead", {}, el("tr", {}, ["Patient", "First visit", "Visit", "Data missing", "Onboarding"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, found.patients.map((p) => el("tr", {},
        el("td", {}, el("a", { href: `#patient/${encodeURIComponent(p.patient_id)}` }, p.name || p.patient_id)),
        el("td", {}, when(p.starts_at, clinic)), el("td", {}, p.appointment_type), el("td", {}, (p.missing || []).join(", ") || "none"),
        el("td", {}, p.onboarding || ""))))) : el("p", { class: "muted" }, "No new patients that day."));
}

async function campaignsView() {
  const found = await json("/staff/campaigns");
  show(el("h1", {}, "Reactivation campaigns"),
    found.length ? el("table", {}, el("caption", { class: "muted" }, "Goal against patients recovered"),
      el("thead", {}, el("tr", {}, ["Campaign", "Status", "Goal", "Targeted", "Recovered", "Answered", "Never reached", "By link"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, found.map((c) => el("tr", {}, el("td", {}, c.name), el("td", {}, c.status),
        el("td", {}, `${c.goal.patients} by ${c.goal.by}`), el("td", {}, String(c.targeted)), el("td", {}, String(c.recovered)),
        el("td", {}, String(c.outcomes?.responded ?? "")), el("td", {}, String(c.outcomes?.never_reached ?? "")),
        el("td", {}, Object.entries(c.responses_by_link || {}).map(([k, v]) => `${k} ${v}`).join(", ")))))) :
      el("p", { class: "muted" }, "No campaigns yet."));
}

// --- the reports ----------------------------------------------------------------------------------
async function reportsView() {
  const kinds = await json("/staff/reports");
  const frame = el("section", { id: "report", "aria-label": "Report", hidden: true });
  const open = async (key) => {
    const response = await api(`/staff/report?key=${encodeURIComponent(key)}`);
    if (!response.ok) return;
    // The report (a page the scheduled job wrote, its data escaped) in a shadow root of its own: its styles
    // as constructed sheets (the console's CSP keeps inline <style> out), no script runs (the CSP again).
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const sheets = [...page.querySelectorAll("style")].map((style) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(style.textContent);
      style.remove();
      return sheet;
    });
    for (const script of page.querySelectorAll("script")) script.remove();
    const root = frame.shadowRoot || frame.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = sheets;
    root.replaceChildren(...[...page.body.childNodes].map((node) => document.importNode(node, true)));
    frame.setAttribute("aria-label", `Report ${key}`);
    frame.hidden = false;
  };
  show(el("h1", {}, "Reports"),
    Object.entries(kinds).map(([kind, keys]) => [el("h2", {}, REPORT_LABELS[kind] || kind),
      keys.length ? el("ul", { class: "reports" }, keys.slice(0, 10).map((key) => el("li", {},
        el("button", { type: "button", onclick: () => open(key) }, key.split("/").pop().replace(".html", ""))))) :
        el("p", { class: "muted" }, "None yet.")]),
    frame);
}

// --- the audit log --------------------------------------------------------------------------------
async function auditView(event) {
  event?.preventDefault?.();
  const asked = document.getElementById("audit-day")?.value;
  const found = await json(`/staff/audit${asked ? `?day=${encodeURIComponent(asked)}` : ""}`);
  const day = found.day, views = found.views;
  show(el("h1", {}, "Audit log: who viewed which patient"),
    el("form", { onsubmit: guarded(auditView) }, el("div", {}, el("label", { for: "audit-day" }, "Day (UTC)"),
      el("input", { id: "audit-day", type: "date", value: day })), el("button", { type: "submit", class: "primary" }, "Show")),
    el("table", {}, el("caption", { class: "muted" }, `${views.length} views`),
      el("thead", {}, el("tr", {}, ["When", "Staff", "Role", "Patient", "Part"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, views.map((v) => el("tr", {}, el("td", {}, new Date(v.at).toLocaleString([], { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })), el("td", {}, v.staff_id), el("td", {}, v.role),
        el("td", {}, v.patient_id), el("td", {}, v.part))))));
}

// --- start ---------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", async () => {
  state.config = await (await fetch("config.json")).json();
  document.getElementById("sign-in-form").addEventListener("submit", signIn);
  document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));
  for (const kind of ["click", "keydown"]) document.addEventListener(kind, active, true);
  setInterval(() => { if (idle()) signOut("You were away for a while: sign in again."); }, 30000);
  window.addEventListener("hashchange", route);
  state.token = sessionStorage.getItem("revisit-token");
  if (state.token) start().catch(() => signOut("")); else signOut("");
});
