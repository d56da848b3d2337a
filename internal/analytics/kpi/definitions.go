package kpi

// definition is a KPI's name, unit and definition. The definition text is
// the same, word for word, as in docs/kpis.md (a test checks it).
type definition struct {
	key, label, unit, text string
}

// Units of KPI values.
const (
	UnitMoney = "money" // major units of the base currency (e.g. 12.50)
	UnitCount = "count"
	UnitRatio = "ratio" // a share: 0.25 is 25 %
	UnitYears = "years"
	// UnitMinutes is a duration in minutes, to one decimal.
	UnitMinutes = "minutes"
	// UnitPoints is an NPS: % promoters − % detractors, −100 to 100, one
	// decimal.
	UnitPoints = "points"
	// UnitScore is an average answer on a survey's scale (CSAT: 1-5).
	UnitScore = "score"
)

var (
	defRevenue = definition{"revenue", "Revenue", UnitMoney,
		"Net revenue: the value of the completed, uncancelled orders placed in the period in the base currency, minus the refunds of such orders made in the period."}
	defGross = definition{"gross_revenue", "Gross revenue", UnitMoney,
		"The value of the completed, uncancelled orders placed in the period in the base currency, before refunds. An order's value is its total, else its revenue, else the sum of its items."}
	defRefunds = definition{"refunds", "Refunds", UnitMoney,
		"Refunds made in the period of completed, uncancelled orders in the base currency, counted on the day of the refund. A refund without an amount returns the whole order; refunds never count for more than the order's value."}
	defOrders = definition{"orders", "Orders", UnitCount,
		"Completed orders placed in the period that are not cancelled, in any currency. A cancelled order counts in no period."}
	defAOV = definition{"average_order_value", "Average order value", UnitMoney,
		"Gross revenue ÷ the number of orders in the base currency placed in the period."}

	defActive = definition{"active_customers", "Active customers", UnitCount,
		"Customers with at least one order in the period. A customer is a person after identity resolution: merged profiles count once."}
	defNew = definition{"new_customers", "New customers", UnitCount,
		"Active customers whose first order was placed in the period. In a breakdown by channel, store or campaign: whose first order in that channel, store or campaign was."}
	defReturning = definition{"returning_customers", "Returning customers", UnitCount,
		"Active customers who had ordered before the period (in a breakdown: in that group): active − new."}
	defRepurchase = definition{"repurchase_rate", "Repurchase rate", UnitRatio,
		"Share of the period's active customers who, by the end of the period, have ordered on at least two different days (orders of one day count once)."}
	defCustomers = definition{"customers", "Customers", UnitCount,
		"Customers at the end of the period: those with an order in the churn window that ends on the period's last day (or today, if the period ends later)."}
	defLost = definition{"lost_customers", "Lost customers", UnitCount,
		"Customers lost in the period: a customer is lost on the day the churn window has passed since their last order without a new one. Days after today do not count."}
	defChurn = definition{"churn_rate", "Churn rate", UnitRatio,
		"Lost customers ÷ the average number of customers in the period, (customers at the start + customers at the end) ÷ 2; customers at the start are those with an order in the churn window that ends the day before the period."}
	defRetention = definition{"retention_rate", "Retention rate", UnitRatio,
		"Customers who ordered in the previous period of the same length and ordered again in this one ÷ the customers who ordered in the previous period (active customers then)."}

	defCosts = definition{"costs", "Costs", UnitMoney,
		"All costs entered for the period. A cost is spread evenly over its days; the period takes the share of the days it covers."}
	defAcqCosts = definition{"acquisition_costs", "Acquisition costs", UnitMoney,
		"Costs of category acquisition in the period, spread in the same way."}
	defCostPerCustomer = definition{"cost_per_customer", "Cost per customer", UnitMoney,
		"Costs ÷ active customers."}
	defCAC = definition{"customer_acquisition_cost", "Customer acquisition cost", UnitMoney,
		"Acquisition costs ÷ new customers."}

	defYearlySpend = definition{"yearly_spend", "Yearly spend per customer", UnitMoney,
		"Revenue ÷ active customers, scaled to a year: × 365 ÷ the days in the period."}
	defYears = definition{"relationship_years", "Years of relationship", UnitYears,
		"How long a customer stays, in years: 1 ÷ the churn rate scaled to a year (churn rate × 365 ÷ the days in the period)."}
	defCLV = definition{"historic_clv", "Historic customer lifetime value", UnitMoney,
		"Yearly spend per customer × years of relationship − customer acquisition cost (0 when no acquisition costs were entered)."}
)

var (
	defNPS = definition{"nps", "NPS", UnitPoints,
		"Net Promoter Score of the NPS answers given in the period: % promoters (9-10) − % detractors (0-6), from the exact counts, rounded to one decimal (−100 to 100). Every response counts."}
	defPromoters = definition{"nps_promoters", "Promoters", UnitRatio,
		"Share of the period's NPS answers scoring 9 or 10."}
	defPassives = definition{"nps_passives", "Passives", UnitRatio,
		"Share of the period's NPS answers scoring 7 or 8."}
	defDetractors = definition{"nps_detractors", "Detractors", UnitRatio,
		"Share of the period's NPS answers scoring 0 to 6."}
	defNPSResponses = definition{"nps_responses", "NPS responses", UnitCount,
		"NPS answers given in the period (Survey Responded with survey_type nps or none)."}
	defCSAT = definition{"csat", "CSAT", UnitRatio,
		"Share of the period's CSAT answers scoring 4 or 5. Shown when the period or the previous one has CSAT answers."}
	defCSATAverage = definition{"csat_average", "CSAT average score", UnitScore,
		"Mean score (1-5) of the period's CSAT answers."}
	defCSATResponses = definition{"csat_responses", "CSAT responses", UnitCount,
		"CSAT answers given in the period."}

	defFirstResponseMedian = definition{"first_response_median", "First response, median", UnitMinutes,
		"Median time from Ticket Created to the care desk's first reply, over the tickets created in the period that have one, in minutes."}
	defFirstResponseP90 = definition{"first_response_p90", "First response, 90th percentile", UnitMinutes,
		"90th percentile of the same first-response times: nine tickets in ten had an answer within it."}
	defResolutionMedian = definition{"resolution_median", "Resolution, median", UnitMinutes,
		"Median time from Ticket Created to the first Ticket Resolved, over the tickets created in the period that are resolved, in minutes."}
	defResolutionP90 = definition{"resolution_p90", "Resolution, 90th percentile", UnitMinutes,
		"90th percentile of the same resolution times."}
	defTickets = definition{"tickets", "Tickets", UnitCount,
		"Care tickets created in the period."}

	defCheckoutConversion = definition{"checkout_conversion", "Checkout conversion", UnitRatio,
		"Checkouts started in the period whose order was completed (decided as the events were processed) ÷ checkouts started in the period."}
	defCheckouts = definition{"checkouts", "Checkouts started", UnitCount,
		"Checkouts started in the period, each checkout once."}
	defSessionConversion = definition{"session_conversion", "Session conversion", UnitRatio,
		"Product-viewing sessions started in the period that ended in an order of the same customer (as identified when the events were processed) ÷ product-viewing sessions started in the period."}
	defSessions = definition{"product_sessions", "Product-viewing sessions", UnitCount,
		"Sessions started in the period in which a customer viewed products: runs of one customer's product views less than 30 minutes apart."}

	defCrossSellOrders = definition{"cross_sell_order_share", "Cross-sell order share", UnitRatio,
		"Orders placed in the period with at least one cross-sold line ÷ orders placed in the period (completed, uncancelled)."}
	defUpsellOrders = definition{"upsell_order_share", "Upsell order share", UnitRatio,
		"Orders placed in the period with at least one upsold line ÷ orders placed in the period (completed, uncancelled)."}
	defAttachOrders = definition{"attach_order_share", "Attach order share", UnitRatio,
		"Orders placed in the period with at least one cross-sold or upsold line ÷ orders placed in the period (completed, uncancelled)."}
	defCrossSellRevenue = definition{"cross_sell_revenue_share", "Cross-sell revenue share", UnitRatio,
		"Σ price × quantity of the cross-sold lines ÷ Σ price × quantity of all lines, over the orders placed in the period in the base currency."}
	defUpsellRevenue = definition{"upsell_revenue_share", "Upsell revenue share", UnitRatio,
		"Σ price × quantity of the upsold lines ÷ Σ price × quantity of all lines, over the orders placed in the period in the base currency."}
	defAttachRevenue = definition{"attach_revenue_share", "Attach revenue share", UnitRatio,
		"Σ price × quantity of the cross-sold and upsold lines ÷ Σ price × quantity of all lines, over the orders placed in the period in the base currency."}
)

// definitions lists every KPI, for documentation and tests.
var definitions = []definition{
	defRevenue, defGross, defRefunds, defOrders, defAOV,
	defActive, defNew, defReturning, defRepurchase, defCustomers, defLost, defChurn, defRetention,
	defCosts, defAcqCosts, defCostPerCustomer, defCAC,
	defYearlySpend, defYears, defCLV,
	defNPS, defPromoters, defPassives, defDetractors, defNPSResponses, defCSAT, defCSATAverage, defCSATResponses,
	defFirstResponseMedian, defFirstResponseP90, defResolutionMedian, defResolutionP90, defTickets,
	defCheckoutConversion, defCheckouts, defSessionConversion, defSessions,
	defCrossSellOrders, defUpsellOrders, defAttachOrders, defCrossSellRevenue, defUpsellRevenue, defAttachRevenue,
}
