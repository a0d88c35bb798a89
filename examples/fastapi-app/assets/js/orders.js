// Renders orders as list items; imported by app.js (so preloaded by asset_tags).
export function renderOrders(list, orders) {
  list.replaceChildren(...orders.map((o) => Object.assign(document.createElement('li'), { textContent: o.item })));
}
