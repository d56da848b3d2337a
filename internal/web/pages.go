package web

import "github.com/bottega-crm/bottega/internal/auth"

// pages is every dashboard route and what it needs. Besides the sign-in
// page, every route needs a staff session; Permission narrows it further.
// Actions that change something are POSTs (the cross-origin protection in
// New guards them).
func (s *server) pages() []page {
	return []page{
		{Method: "GET", Path: "/login", Public: true, h: s.loginPage},
		{Method: "POST", Path: "/login", Public: true, h: s.login},
		{Method: "POST", Path: "/logout", Public: true, h: s.logout},
		{Method: "POST", Path: "/locale", Public: true, h: s.setLocale},

		// Overview: KPIs, NPS, mixes, cohorts, RFM, CLV, churn risk, personas.
		{Method: "GET", Path: "/{$}", h: s.home},
		{Method: "GET", Path: "/overview", Permission: auth.AnalyticsRead, h: s.overview},

		// Customers and the customer 360.
		{Method: "GET", Path: "/customers", Permission: auth.CustomersRead, h: s.customers},
		{Method: "GET", Path: "/customers.csv", Permission: auth.CustomersRead, h: s.customersCSV},
		{Method: "GET", Path: "/customers/{id}", Permission: auth.CustomersRead, h: s.customer},
		{Method: "GET", Path: "/customers/{id}/timeline", Permission: auth.CustomersRead, h: s.customerTimeline},
		{Method: "POST", Path: "/merges/{id}/undo", Permission: auth.CustomersWrite, h: s.undoMerge},

		// Sources: write keys, snippets, the live event debugger.
		{Method: "GET", Path: "/sources", Permission: auth.SourcesRead, h: s.sources},
		{Method: "POST", Path: "/sources", Permission: auth.SourcesWrite, h: s.createSource},
		{Method: "POST", Path: "/sources/{name}/rotate", Permission: auth.SourcesWrite, h: s.rotateSource},
		{Method: "POST", Path: "/sources/{name}/disable", Permission: auth.SourcesWrite, h: s.disableSource},
		{Method: "POST", Path: "/sources/{name}/enable", Permission: auth.SourcesWrite, h: s.enableSource},
		{Method: "GET", Path: "/sources/events", Permission: auth.PipelineRead, h: s.sourceEvents},

		// Settings: staff users and roles, everyone's API keys, identity rules.
		{Method: "GET", Path: "/settings", Permission: auth.SettingsRead, h: s.settings},
		{Method: "POST", Path: "/settings/users", Permission: auth.SettingsWrite, h: s.createUser},
		{Method: "POST", Path: "/settings/users/{id}/role", Permission: auth.SettingsWrite, h: s.setUserRole},
		{Method: "POST", Path: "/settings/users/{id}/disable", Permission: auth.SettingsWrite, h: s.disableUser},
		{Method: "POST", Path: "/settings/users/{id}/enable", Permission: auth.SettingsWrite, h: s.enableUser},
		{Method: "POST", Path: "/settings/keys/{id}/revoke", Permission: auth.SettingsWrite, h: s.revokeAnyKey},
		{Method: "POST", Path: "/settings/rules", Permission: auth.SettingsWrite, h: s.saveRules},

		// The signed-in user's own account: password, language, API keys.
		{Method: "GET", Path: "/account", h: s.account},
		{Method: "POST", Path: "/account/password", h: s.changePassword},
		{Method: "POST", Path: "/account/keys", h: s.createOwnKey},
		{Method: "POST", Path: "/account/keys/{id}/revoke", h: s.revokeOwnKey},
	}
}
