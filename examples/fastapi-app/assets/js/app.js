// The FastAPI example's script: lists the orders from the API with the helper it imports.
import { renderOrders } from './orders.js';

fetch('/api/orders').then((r) => r.json()).then((orders) => renderOrders(document.getElementById('orders'), orders));
