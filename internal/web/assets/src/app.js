// app.js: loaded by every dashboard page, in <head> without defer (it only
// registers listeners, so blocking is cheap, and the `js` class it sets on
// <html> is in place before the first paint, so the small-screen nav does not
// flash open).
//
// It carries htmx 2 (as window.htmx) with a configuration that fits a
// Content-Security-Policy of 'self' and the glue behaviours below. Every
// behaviour is attached by event delegation on document, so it also works on
// content htmx swaps in later, and every one degrades to plain HTML without JS.
//
//   <button type="button" data-copy="#key" data-copied-label="Copiato"
//           data-copy-failed-label="Premi Ctrl+C">Copia</button>
//       Copies the text of the element matched by the selector (the value of an
//       input or textarea). The button shows data-copied-label (default
//       "Copied") for 2 s with class is-copied, and a polite live region
//       announces it. If the clipboard is not available (plain-HTTP origins),
//       the target's text is selected instead and data-copy-failed-label shown.
//
//   <button type="button" data-nav-toggle aria-controls="nav" aria-expanded="false">Menu</button>
//       Toggles aria-expanded and the attribute data-open on the element with
//       id "nav". Escape closes it and gives focus back to the button. CSS
//       (app.css) hides .nav on narrow screens unless it has data-open.
//
//   <form data-autosubmit ...>
//       Submits the form (requestSubmit, so hx-get/hx-post on the form and
//       native submission both work) when one of its controls changes.
//       Elements with class js-hidden (e.g. the "Apply" button) are hidden
//       when JS runs.
//
// Confirmations use htmx's hx-confirm. Charts live in charts.js, which only
// pages with charts include.
import htmx from 'htmx.org';

document.documentElement.classList.add('js');

Object.assign(htmx.config, {
	allowEval: false, // no eval/new Function: hx-on, js: values and event filters are off
	allowScriptTags: false, // swapped content never runs scripts
	includeIndicatorStyles: false, // no inline <style>: app.css styles .htmx-indicator
	selfRequestsOnly: true,
	// Snapshots of pages hold customer data and htmx keeps them in
	// localStorage, where they outlive the session: keep none, and on
	// back/forward to an uncached page reload it from the server.
	historyCacheSize: 0,
	refreshOnHistoryMiss: true,
});
window.htmx = htmx;

// ---- copy -------------------------------------------------------------

let liveRegion;

function announce(text) {
	if (!liveRegion || !liveRegion.isConnected) {
		liveRegion = document.createElement('div');
		liveRegion.className = 'visually-hidden';
		liveRegion.setAttribute('role', 'status');
		liveRegion.setAttribute('aria-live', 'polite');
		document.body.appendChild(liveRegion);
	}
	liveRegion.textContent = '';
	// A new text node in a later task is announced even when the text repeats.
	setTimeout(() => {
		liveRegion.textContent = text;
	}, 50);
}

function textOf(el) {
	if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
		return el.value;
	}
	return el.textContent.trim();
}

function selectContents(el) {
	if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
		el.focus();
		el.select();
		return;
	}
	const range = document.createRange();
	range.selectNodeContents(el);
	const sel = window.getSelection();
	sel.removeAllRanges();
	sel.addRange(range);
}

const copyTimers = new WeakMap();

function showCopyState(button, label, cls) {
	if (!button.dataset.copyLabel) {
		button.dataset.copyLabel = button.textContent;
	}
	clearTimeout(copyTimers.get(button));
	button.textContent = label;
	button.classList.remove('is-copied', 'is-copy-failed');
	button.classList.add(cls);
	announce(label);
	copyTimers.set(
		button,
		setTimeout(() => {
			button.textContent = button.dataset.copyLabel;
			button.classList.remove(cls);
		}, 2000),
	);
}

async function copy(button) {
	let target = null;
	try {
		target = document.querySelector(button.dataset.copy);
	} catch {
		// an invalid selector is treated as a missing target
	}
	if (!target) {
		return;
	}
	const text = textOf(target);
	try {
		if (!navigator.clipboard || !window.isSecureContext) {
			throw new Error('no clipboard');
		}
		await navigator.clipboard.writeText(text);
		showCopyState(button, button.dataset.copiedLabel || 'Copied', 'is-copied');
	} catch {
		selectContents(target);
		showCopyState(button, button.dataset.copyFailedLabel || 'Press Ctrl+C to copy', 'is-copy-failed');
	}
}

// ---- nav toggle -------------------------------------------------------

function controlled(button) {
	const id = button.getAttribute('aria-controls');
	return id ? document.getElementById(id) : null;
}

function setNav(button, open) {
	const nav = controlled(button);
	if (!nav) {
		return;
	}
	button.setAttribute('aria-expanded', String(open));
	nav.toggleAttribute('data-open', open);
}

// ---- delegation -------------------------------------------------------

document.addEventListener('click', (evt) => {
	const target = evt.target instanceof Element ? evt.target : null;
	if (!target) {
		return;
	}
	const copyButton = target.closest('[data-copy]');
	if (copyButton) {
		evt.preventDefault();
		copy(copyButton);
		return;
	}
	const toggle = target.closest('[data-nav-toggle]');
	if (toggle) {
		evt.preventDefault();
		setNav(toggle, toggle.getAttribute('aria-expanded') !== 'true');
	}
});

document.addEventListener('keydown', (evt) => {
	if (evt.key !== 'Escape') {
		return;
	}
	for (const toggle of document.querySelectorAll('[data-nav-toggle][aria-expanded="true"]')) {
		const nav = controlled(toggle);
		const hadFocus = nav && nav.contains(document.activeElement);
		setNav(toggle, false);
		if (hadFocus) {
			toggle.focus();
		}
	}
});

document.addEventListener('change', (evt) => {
	const control = evt.target instanceof Element ? evt.target : null;
	const form = control && control.closest('form[data-autosubmit]');
	if (!form || control === form) {
		return;
	}
	if (typeof form.requestSubmit === 'function') {
		form.requestSubmit();
	} else {
		// Safari < 16: let htmx handle the event; submit natively if nothing did.
		if (form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }))) {
			form.submit();
		}
	}
});
