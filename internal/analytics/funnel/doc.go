// Package funnel measures how shoppers move towards an order: conversion
// (checkouts started → orders completed; product-viewing sessions → order)
// and upselling and cross-selling (the share of orders and revenue from items
// added from a recommendation or as an upgrade).
//
// Events and properties read (Segment eCommerce v2 names; the v1 names
// Viewed Product, Added Product and Started Checkout are read as the same):
//
//   - Product Viewed: a product view, the raw material of sessions.
//   - Checkout Started: checkout_id, else order_id, identifies the checkout
//     (a repeated event counts once); order_id links it to its order.
//   - Product Added: product_id (else sku) and the marks below.
//   - Order Completed: order_id, currency, products[] with product_id (else
//     sku), price, quantity and the marks below.
//
// A line is cross-sold when it carries recommended: true or cross_sell: true
// (or added_from "recommendation"/"cross_sell"), and upsold when it carries
// upsell: true or upgrade: true (or added_from "upsell"/"upgrade"), on the
// Order Completed product itself or on a Product Added of the same product by
// the same customer in the 7 days before the order. A line marked both ways
// counts as upsold.
//
// Definitions (periods are UTC calendar days, both ends included, event
// time):
//   - Checkout conversion = checkouts started in the period whose order was
//     completed (the order named by its order_id, in either order of
//     arrival; without one, any order of the same customer in the following
//     24 hours) ÷ checkouts started. A repeated checkout counts once, on the
//     day of the first one processed.
//   - Product-viewing sessions are cut as views are processed, per canonical
//     profile: a view more than 30 minutes after the profile's previous view
//     starts a new session (funnel_sessions keeps each profile's open one).
//     A session converts when the profile completes an order placed between
//     its first view and 30 minutes after its last, processed while the
//     session is open (or before its views). Sessions count in the period
//     they start in; their channel is their first view's.
//   - Cross-sell (upsell) order share = completed, uncancelled orders placed
//     in the period with at least one cross-sold (upsold) line ÷ those
//     orders; revenue share = Σ price × quantity of those lines ÷ Σ price ×
//     quantity of all lines, over orders in the shop's base currency.
//
// Guarantees: conversion and attachment are decided in the processing
// transaction, exactly once, and kept as daily counts by (day, channel,
// store, currency) in funnel_daily; reports sum those counts, so their cost
// follows the days of the period, not its events. A cancellation or a later
// Order Completed moves the order's counts. Attribution is as processed: a
// merge carries the merged profile's open session and pending checkouts
// without order_id to the survivor but does not re-attribute past sessions
// or checkouts, and an unmerge (Rebuild) leaves the counts as they are.
package funnel
