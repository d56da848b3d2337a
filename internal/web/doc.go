// Package web is bottega's dashboard: server-rendered html/template pages
// with htmx for partial updates and Apache ECharts (SVG renderer) for charts,
// every asset embedded in the binary.
//
// Guarantees: every page but the sign-in page needs a staff session, and
// pages.go names the permission each page and action needs; the navigation
// shows only what the user may open. Contact details are masked for users
// without auth.CustomersPII. Anything that came from customers or events is
// escaped by html/template's contextual escaping and never marked safe;
// chart data travels as JSON in non-executable script elements, and the
// Content-Security-Policy allows scripts from bottega itself only.
// State-changing requests are refused when they come from another origin.
// Every page and message exists in English and Italian; numbers, money and
// dates are formatted for the user's language.
package web
