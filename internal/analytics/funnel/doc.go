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
//     completed (the order named by its order_id; without one, any order of
//     the same customer in the following 24 hours) ÷ checkouts started.
//   - A product-viewing session is a run of one customer's product views
//     less than 30 minutes apart; it converts when the customer completes an
//     order between its first view and 30 minutes after its last. Sessions
//     count in the period they start in; their channel is their first view's.
//   - Cross-sell (upsell) order share = completed, uncancelled orders placed
//     in the period with at least one cross-sold (upsold) line ÷ those
//     orders; revenue share = Σ price × quantity of those lines ÷ Σ price ×
//     quantity of all lines, over orders in the shop's base currency.
//
// Guarantees: every event is recorded in the processing transaction, once
// (keyed by event sequence, checkout or order id), attributed to the raw
// profile it was applied to; queries join profiles.canonical_id, so merges and
// unmerges need no rewrite.
package funnel
