"""The default mappings, as the TOML a user edits (`adrop-kit import ga4 --write-mapping FILE` writes it).

They are parsed by the same loader as a user's file (`importers.mapping.parse_mapping`): the text
below is the one statement of each default correspondence.
"""

from __future__ import annotations

GA4 = '''\
# How a GA4 / Firebase BigQuery export becomes Adrop events (adrop-kit import ga4).
# Edit it and pass it back with --mapping FILE. Sources are dotted paths into the export row:
#   params.KEY          a value of event_params (whichever slot holds it: string/int/float/double)
#   user_properties.KEY the same in user_properties
#   ecommerce.X, device.X, geo.X, app_info.X, traffic_source.X   nested fields
#   item.X              a field of the item an event is about (events that take "each" or
#                       "with_quantity" item, or "about")
#   path(SOURCE)        the path of a URL (https://shop.example/p/42?x=1 -> /p/42)
#   const:TEXT          the text itself
# A list of sources takes the first that holds a value.
source = "ga4"
event_name = "event_name"
time = "event_timestamp"          # INT64 microseconds since the epoch, UTC -> column ts
uid = ["user_id", "user_pseudo_id"]
platform = "platform"             # lower-cased: WEB -> web, ANDROID -> android, IOS -> ios
items_from = "items"
unmapped = "skip"                 # "skip" (default) or "keep": other events kept as custom events
placeholders = ["(not set)", "(data deleted)", "<Other>"]
# Fields that hold a value no Adrop field carries are reported as lost, except these (a name
# also covers what is under it: "device" covers device.category).
ignore = [
  "event_date", "event_previous_timestamp", "event_bundle_sequence_id", "event_server_timestamp_offset",
  "event_value_in_usd", "stream_id", "user_first_touch_timestamp", "user_pseudo_id", "user_id",
  "privacy_info", "user_ltv", "device", "geo", "app_info", "traffic_source", "event_dimensions",
  "collected_traffic_source", "session_traffic_source_last_click", "is_active_user", "batch_event_index",
  "batch_page_id", "batch_ordering_id", "publisher", "user_properties",
  "params.ga_session_id", "params.ga_session_number", "params.engagement_time_msec", "params.session_engaged",
  "params.engaged_session_event", "params.entrances", "params.ignore_referrer", "params.debug_mode",
  "params.firebase_screen_class", "params.firebase_screen_id", "params.firebase_event_origin",
  "params.firebase_previous_screen", "params.firebase_previous_class", "params.firebase_previous_id",
  "params.page_referrer", "params.page_title", "params.term", "params.medium", "params.source",
  "params.campaign", "params.gclid", "params.batch_page_id", "params.batch_ordering_id",
  "ecommerce.total_item_quantity", "ecommerce.unique_items", "ecommerce.purchase_revenue_in_usd",
  "ecommerce.refund_value_in_usd", "ecommerce.shipping_value_in_usd", "ecommerce.tax_value_in_usd",
  "items.price_in_usd", "items.item_revenue_in_usd", "items.item_refund_in_usd",
]

[item]                            # an Adrop item from an element of items
item_id = "item_id"
item_name = "item_name"
item_category = "item_category"
brand = "item_brand"
price = "price"
quantity = "quantity"

# One [[event]] per rule, tried in order; the first whose `from` (and `when`) matches maps the row.
# items: "none" (default), "all" (the event's items list), "each" (one event per item),
#        "with_quantity" (one event per item whose quantity is set: GA4 rows list every item on
#        screen), "about" (the one item the row is about: the only item, else the only one with
#        a quantity; else the row is skipped).

[[event]]
from = ["page_view", "screen_view"]
to = "page_view"
# page_id is derived: the path of page_location (web), else the app's screen name. Confirm it.
[event.params]
page_id = ["path(params.page_location)", "params.firebase_screen", "params.firebase_screen_class"]
page_url = "params.page_location"

[[event]]
from = "session_start"
to = "app_open"
when = { platform = ["ANDROID", "IOS"] }  # app sessions; a web session_start is no app_open

[[event]]
from = "view_item"
to = "view_item"
items = "about"
[event.params]
item_id = "item.item_id"
item_name = "item.item_name"
item_category = "item.item_category"
brand = "item.item_brand"
price = "item.price"

[[event]]
from = "add_to_wishlist"
to = "add_to_wishlist"
items = "about"
[event.params]
item_id = "item.item_id"
item_name = "item.item_name"
item_category = "item.item_category"
brand = "item.item_brand"
price = "item.price"

[[event]]
from = "add_to_cart"
to = "add_to_cart"
items = "with_quantity"
[event.params]
item_id = "item.item_id"
item_name = "item.item_name"
item_category = "item.item_category"
brand = "item.item_brand"
price = "item.price"
quantity = "item.quantity"
currency = "params.currency"

[[event]]
from = "begin_checkout"
to = "begin_checkout"
items = "all"
[event.params]
currency = "params.currency"

[[event]]
from = "purchase"
to = "purchase"
items = "all"
[event.params]
tx_id = ["ecommerce.transaction_id", "params.transaction_id"]
currency = "params.currency"

[[event]]
from = "sign_up"
to = "sign_up"
[event.params]
method = "params.method"

[[event]]
from = "notification_open"
to = "push_clicks"
[event.params]
campaign_id = ["params.message_id", "params.message_name"]

[[event]]
from = "form_start"
to = "begin_lead_form"
[event.params]
form_id = "params.form_id"
form_name = "params.form_name"
form_destination = "params.form_destination"

[[event]]
from = ["generate_lead", "form_submit"]
to = "generate_lead"
[event.params]
form_id = "params.form_id"
form_name = "params.form_name"
form_destination = "params.form_destination"
value = "params.value"
currency = "params.currency"

[[event]]
from = "select_content"
to = "view_content"
[event.params]
content_id = ["params.content_id", "params.item_id"]
content_type = "params.content_type"

[[event]]
from = "click"
to = "click"
[event.params]
element_id = ["params.link_id", "params.link_url"]
element_type = "params.link_classes"
target_url = "params.link_url"
'''

SEGMENT = '''\
# How Segment / RudderStack calls become Adrop events (adrop-kit import segment).
# Edit it and pass it back with --mapping FILE. Sources are dotted paths into the call:
#   properties.X, context.page.path, …   nested fields
#   item.X              a field of the product an event is about
#   path(SOURCE)        the path of a URL;  const:TEXT  the text itself
# A list of sources takes the first that holds a value. A track call is named by `event`;
# page, screen, identify, … calls by their `type`.
source = "segment"
event_name = ["event", "type"]
time = ["timestamp", "originalTimestamp", "receivedAt"]   # ISO 8601 -> column ts (UTC)
uid = ["userId", "anonymousId"]
platform = "context.device.type"  # lower-cased; analytics.js calls have none (absent)
items_from = "properties.products"
unmapped = "skip"
placeholders = []
ignore = [
  "type", "event", "messageId", "userId", "anonymousId", "timestamp", "originalTimestamp", "receivedAt",
  "sentAt", "context", "integrations", "channel", "version", "writeKey", "projectId", "_metadata",
  "request_ip", "rudderId",
]

[item]
item_id = ["product_id", "sku", "id"]
item_name = "name"
item_category = "category"
brand = "brand"
price = "price"
quantity = "quantity"

[[event]]
from = ["page", "screen"]
to = "page_view"
[event.params]
page_id = ["properties.path", "context.page.path", "path(properties.url)", "name", "properties.name"]
page_url = ["properties.url", "context.page.url"]
page_category = "properties.category"

[[event]]
from = "Application Opened"
to = "app_open"

[[event]]
from = "Signed Up"
to = "sign_up"
[event.params]
method = ["properties.method", "properties.type"]

[[event]]
from = "Push Notification Tapped"
to = "push_clicks"
[event.params]
campaign_id = ["properties.campaign.id", "properties.campaign.name"]

[[event]]
from = "Product Viewed"
to = "view_item"
[event.params]
item_id = ["properties.product_id", "properties.sku"]
item_name = "properties.name"
item_category = "properties.category"
brand = "properties.brand"
price = "properties.price"

[[event]]
from = "Product Added to Wishlist"
to = "add_to_wishlist"
[event.params]
item_id = ["properties.product_id", "properties.sku"]
item_name = "properties.name"
item_category = "properties.category"
brand = "properties.brand"
price = "properties.price"

[[event]]
from = "Product Added"
to = "add_to_cart"
[event.params]
item_id = ["properties.product_id", "properties.sku"]
item_name = "properties.name"
item_category = "properties.category"
brand = "properties.brand"
price = "properties.price"
quantity = "properties.quantity"
currency = "properties.currency"

[[event]]
from = "Checkout Started"
to = "begin_checkout"
items = "all"
[event.params]
currency = "properties.currency"

[[event]]
from = "Order Completed"
to = "purchase"
items = "all"
[event.params]
tx_id = ["properties.order_id", "properties.checkout_id"]
currency = "properties.currency"
'''

DEFAULTS = {"ga4": GA4, "segment": SEGMENT}

__all__ = ["DEFAULTS", "GA4", "SEGMENT"]
