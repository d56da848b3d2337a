// charts.js: included (after app.js, with defer) by pages that show charts,
// and by pages into which htmx may swap charts. It draws Apache ECharts charts
// with the SVG renderer from specs the server puts in the page.
//
// Contract with the server
// ------------------------
//   <div class="chart" data-chart="SPEC_ID" role="img" aria-label="Revenue by month, 2026"></div>
//   <script type="application/json" id="SPEC_ID">{ ...ECharts option... }</script>
//
// The JSON is an ECharts option object (https://echarts.apache.org/en/option.html)
// using only: line, bar, pie, heatmap, scatter series; grid, tooltip, legend,
// visualMap, aria, dataset, markLine components. It may carry one extra key,
// which is removed before the option reaches ECharts:
//
//   "bottega": {
//     "locale": "it" | "en",          // default: <html lang>, else "en"
//     "format": {
//       "value": {"style": "currency", "currency": "EUR"} | {"style": "percent"} | {"style": "decimal"},
//       "axis":  {...}                 // optional, for value-axis labels; default: "value"
//     }
//   }
//
// "format" objects are Intl.NumberFormat options (JSON cannot carry functions);
// percent values are fractions (0.25 → 25 %). They become tooltip.valueFormatter,
// the axisLabel.formatter of every value axis and the visualMap formatter,
// and markLine labels, unless the option sets those itself. Axis labels
// default to the value format with minimumFractionDigits 0.
//
// Data items (series data objects, or dataset rows as objects) may carry
// "url": "/customers?segment=champions". Clicking such an item navigates
// there; only same-origin paths ("/" but not "//") are followed. Charts are
// not keyboard-operable: every url must also be reachable from a link or
// table on the page.
//
// Defaults charts.js adds when the option does not set them:
//   aria.enabled = true, with the element's aria-label as aria.label.description;
//   tooltip = {} (shown), rendered as richText (inside the SVG: HTML tooltips
//   would need inline style attributes, which a 'self' CSP blocks), confined to the chart;
//   animation = false when the user prefers reduced motion;
//   color = the palette in the CSS custom properties --chart-1 … --chart-8;
//   textStyle.fontFamily = the page's font.
//
// Lifecycle: charts are created on DOMContentLoaded and after every htmx
// swap (htmx:afterSettle) or history restore; charts whose element left the
// document are disposed; charts follow their element's size (ResizeObserver)
// and the window's (debounced). A spec that is missing or not valid JSON
// leaves the element empty with data-chart-error set, and is logged.
import { getInstanceByDom, init as initChart, registerLocale, use } from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import {
	AriaComponent,
	DatasetComponent,
	GridComponent,
	LegendComponent,
	MarkLineComponent,
	TooltipComponent,
	VisualMapComponent,
} from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import langIT from 'echarts/lib/i18n/langIT.js';

use([
	SVGRenderer,
	LineChart,
	BarChart,
	PieChart,
	HeatmapChart,
	ScatterChart,
	GridComponent,
	TooltipComponent,
	LegendComponent,
	VisualMapComponent,
	AriaComponent,
	DatasetComponent,
	MarkLineComponent,
]);
registerLocale('IT', langIT);

const charts = new Map(); // element → ECharts instance

// ---- option preparation -----------------------------------------------

function asArray(v) {
	if (v === undefined || v === null) {
		return [];
	}
	return Array.isArray(v) ? v : [v];
}

function pageLocale(requested) {
	const lang = (requested || document.documentElement.lang || 'en').toLowerCase();
	return lang.startsWith('it') ? 'it' : 'en';
}

function numberFormatter(locale, opts) {
	if (!opts || typeof opts !== 'object') {
		return null;
	}
	let nf;
	try {
		nf = new Intl.NumberFormat(locale, opts);
	} catch (err) {
		console.error('bottega charts: bad number format', opts, err);
		return null;
	}
	return (v) => {
		if (Array.isArray(v)) {
			v = v[v.length - 1]; // heatmap/scatter items: [x, y, value]
		}
		const n = typeof v === 'number' ? v : Number(v);
		return v === null || v === undefined || v === '' || Number.isNaN(n) ? String(v ?? '-') : nf.format(n);
	};
}

function isValueAxis(axis, isY) {
	return axis.type === 'value' || (isY && axis.type === undefined);
}

function applyFormats(option, locale, format) {
	const valueOpts = format && format.value;
	const value = numberFormatter(locale, valueOpts);
	// Axis ticks are round numbers: unless told otherwise, drop the
	// currency's ",00" (minimumFractionDigits 0 keeps needed decimals).
	const axisOpts = (format && format.axis) || (valueOpts && Object.assign({}, valueOpts, { minimumFractionDigits: 0 }));
	const axis = numberFormatter(locale, axisOpts) || value;
	if (value && option.tooltip && option.tooltip.valueFormatter === undefined) {
		option.tooltip.valueFormatter = value;
	}
	if (axis) {
		for (const [key, isY] of [['xAxis', false], ['yAxis', true]]) {
			for (const a of asArray(option[key])) {
				if (a && isValueAxis(a, isY)) {
					a.axisLabel = a.axisLabel || {};
					if (a.axisLabel.formatter === undefined) {
						a.axisLabel.formatter = (v) => axis(v);
					}
				}
			}
		}
	}
	if (value) {
		for (const s of asArray(option.series)) {
			const ml = s && s.markLine;
			if (ml && !(ml.label && ml.label.formatter !== undefined)) {
				ml.label = Object.assign({}, ml.label, { formatter: (p) => value(p.value) });
			}
		}
		for (const vm of asArray(option.visualMap)) {
			if (vm && vm.formatter === undefined) {
				vm.formatter = (v, v2) => (v2 === undefined ? value(v) : `${value(v)} – ${value(v2)}`);
			}
		}
	}
}

function hasURL(items) {
	return asArray(items).some((d) => d && typeof d === 'object' && !Array.isArray(d) && typeof d.url === 'string');
}

function cssVar(style, name) {
	return style.getPropertyValue(name).trim();
}

function prepare(option, el) {
	const extra = option.bottega || {};
	delete option.bottega;
	const locale = pageLocale(extra.locale);

	const label = el.getAttribute('aria-label');
	option.aria = Object.assign({ enabled: true }, option.aria);
	if (label && !(option.aria.label && option.aria.label.description)) {
		option.aria.label = Object.assign({}, option.aria.label, { description: label });
	}

	if (option.tooltip === undefined) {
		option.tooltip = {};
	}
	for (const t of asArray(option.tooltip)) {
		if (t && t.renderMode === undefined) {
			t.renderMode = 'richText';
		}
		if (t && t.confine === undefined) {
			t.confine = true;
		}
	}
	applyFormats(option, locale, extra.format);

	if (window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches) {
		option.animation = false;
	}

	const style = getComputedStyle(el);
	if (option.color === undefined) {
		const palette = [];
		for (let i = 1; i <= 8; i++) {
			const c = cssVar(style, `--chart-${i}`);
			if (c) {
				palette.push(c);
			}
		}
		if (palette.length) {
			option.color = palette;
		}
	}
	option.textStyle = Object.assign({ fontFamily: style.fontFamily, color: cssVar(style, '--text-muted') || undefined }, option.textStyle);

	// Items without a url should not look clickable.
	const linked = asArray(option.dataset).some((d) => d && hasURL(d.source));
	for (const s of asArray(option.series)) {
		if (s && s.cursor === undefined && !linked && !hasURL(s.data)) {
			s.cursor = 'default';
		}
	}
	return locale;
}

// ---- navigation -------------------------------------------------------

function safePath(url) {
	if (typeof url !== 'string' || !url.startsWith('/') || url.startsWith('//') || /[\\\u0000-\u001f]/.test(url)) {
		return null;
	}
	try {
		const u = new URL(url, window.location.href);
		return u.origin === window.location.origin ? u.pathname + u.search + u.hash : null;
	} catch {
		return null;
	}
}

function onClick(params) {
	const d = params && params.data;
	if (!d || typeof d !== 'object' || Array.isArray(d)) {
		return;
	}
	const path = safePath(d.url);
	if (path) {
		window.location.assign(path);
	}
}

// ---- lifecycle --------------------------------------------------------

const resizeObserver =
	typeof ResizeObserver === 'function'
		? new ResizeObserver((entries) => {
				// Resize in the next frame: resizing inside the callback may
				// trigger "ResizeObserver loop" errors.
				requestAnimationFrame(() => {
					for (const e of entries) {
						const chart = charts.get(e.target);
						if (chart && !chart.isDisposed()) {
							chart.resize();
						}
					}
				});
			})
		: null;

function dispose(el) {
	const chart = charts.get(el);
	charts.delete(el);
	if (resizeObserver) {
		resizeObserver.unobserve(el);
	}
	if (chart && !chart.isDisposed()) {
		chart.dispose();
	}
}

function init(el) {
	const id = el.getAttribute('data-chart');
	const script = id ? document.getElementById(id) : null;
	let option;
	try {
		if (!script) {
			throw new Error(`no element with id "${id}"`);
		}
		option = JSON.parse(script.textContent);
		if (!option || typeof option !== 'object' || Array.isArray(option)) {
			throw new Error('the spec is not a JSON object');
		}
	} catch (err) {
		el.setAttribute('data-chart-error', '');
		console.error(`bottega charts: chart "${id}":`, err);
		return;
	}

	// A chart restored from htmx's history cache is a copy of an old chart's
	// DOM without its instance: start from an empty element.
	const stale = getInstanceByDom(el);
	if (stale) {
		stale.dispose();
	}
	el.removeAttribute('_echarts_instance_');
	el.removeAttribute('data-chart-error');
	el.replaceChildren();

	const locale = prepare(option, el);
	const chart = initChart(el, null, { renderer: 'svg', locale: locale.toUpperCase() });
	try {
		chart.setOption(option);
	} catch (err) {
		chart.dispose();
		el.setAttribute('data-chart-error', '');
		console.error(`bottega charts: chart "${id}":`, err);
		return;
	}
	chart.on('click', onClick);
	charts.set(el, chart);
	if (resizeObserver) {
		resizeObserver.observe(el);
	}
}

function refresh() {
	for (const el of [...charts.keys()]) {
		if (!el.isConnected) {
			dispose(el);
		}
	}
	for (const el of document.querySelectorAll('[data-chart]')) {
		if (!charts.has(el)) {
			init(el);
		}
	}
}

let resizeTimer = 0;
window.addEventListener('resize', () => {
	clearTimeout(resizeTimer);
	resizeTimer = setTimeout(() => {
		for (const chart of charts.values()) {
			chart.resize();
		}
	}, 150);
});

document.addEventListener('htmx:afterSettle', refresh);
document.addEventListener('htmx:historyRestore', refresh);
if (document.readyState === 'loading') {
	document.addEventListener('DOMContentLoaded', refresh);
} else {
	refresh();
}
