// The origin article's browser WebSocket client, as published in the article. The test
// page (browser-client.int.test.ts) defines the four functions it calls (displayNewOrder,
// updateOrderStatus, handleError, scheduleReconnect) and maps the article's placeholder host to
// the edge node under test; the article's path `/orders` is served by the edge as is.

// --- verbatim from the article ---
// WebSocket client (browser)
const ws = new WebSocket('wss://api.example.com/orders');
// Connection lifecycle
ws.onopen = () => {
console.log('Connected to order service');
ws.send(JSON.stringify({
type: 'subscribe',
channels: ['orders.created', 'orders.status'],
}));
};
ws.onmessage = (event) => {
const message = JSON.parse(event.data);
switch (message.type) {
case 'order.created':
displayNewOrder(message.data);
break;
case 'order.status':
updateOrderStatus(message.data);
break;
case 'error':
handleError(message.error);
break;
}
};
ws.onclose = (event) => {
if (event.code !== 1000) {
// Unexpected close, reconnect with exponential backoff
scheduleReconnect(event.code);
}
};
ws.onerror = (error) => {
console.error('WebSocket error:', error);
};
// Send action
function processOrder(orderId) {
if (ws.readyState === WebSocket.OPEN) {
ws.send(JSON.stringify({
type: 'process_order',
order_id: orderId,
timestamp: Date.now(),
}));
}
}
// --- end of the article's code ---
