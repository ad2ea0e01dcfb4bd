// @ts-check
// Portal page behaviour, on every portal page (templates/portal/base.html loads it as a module):
// toasts (toasts.js), the customer actions with optimistic updates and inline errors
// (actions.js, form-errors.js; redeeming asks first, redeem.js), live merging of the profile
// forms (form-merge.js), following a link to an older row (older.js), the phone nav (nav.js),
// "Print" buttons (print.js) and the team's presence and typing on the messages page
// (team-presence.js), and messages sent or read while offline, kept and sent once the socket is
// back (offline.js, outbox.js). Rows,
// counters and toasts for changes come from the server through static/realtime/realtime.js;
// words shown here come from the server or the templates.

import { handleActions } from "./actions.js";
import { clearErrorsOnInput } from "./form-errors.js";
import { mergeLiveForms } from "./form-merge.js";
import { showCurrentNavItem } from "./nav.js";
import { startOutbox } from "./offline.js";
import { revealLinkedRows } from "./older.js";
import { enablePrintButtons } from "./print.js";
import { handleRedeemConfirmation } from "./redeem.js";
import { showTeamPresence } from "./team-presence.js";
import { showToast, watchToasts } from "./toasts.js";

/** @type {any} */ (window).portalToasts = Object.freeze({ show: showToast });
watchToasts();
clearErrorsOnInput();
mergeLiveForms();
handleActions();
showCurrentNavItem();
revealLinkedRows();
enablePrintButtons();
showTeamPresence();
startOutbox();
handleRedeemConfirmation();
