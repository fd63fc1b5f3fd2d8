// sample-mongo: runs once, when its volume is first initialised, in MONGO_INITDB_DATABASE (shop).
// Documents of uneven shape on purpose: missing fields, nulls, arrays, nested objects, binary.
const statuses = ["paid", "shipped", "delivered", "cancelled"];
const names = ["Zoë", "José", "Søren", "O'Brien", "山田", "Анна", "$dollar", "dot.ted"];

let batch = [];
for (let i = 1; i <= 20000; i++) {
  const doc = {
    _id: i,
    email: `customer${i}@example.com`,
    name: `${names[i % names.length]} ${i}`,
    createdAt: new Date(Date.UTC(2020, 0, 1) + i * 3600 * 1000),
    tags: i % 5 === 0 ? [] : ["newsletter", "vip"].slice(0, i % 3),
    address: i % 7 === 0 ? null : { city: "Berlin", zip: String(10000 + (i % 900)) },
  };
  if (i % 4 === 0) doc.notes = "";
  if (i % 50 === 0) doc.avatar = BinData(0, "iVBORw0KGgo=");
  batch.push(doc);
  if (batch.length === 1000) {
    db.customers.insertMany(batch);
    batch = [];
  }
}

batch = [];
for (let i = 1; i <= 100000; i++) {
  batch.push({
    customerId: 1 + ((i * 7919) % 20000),
    status: statuses[i % statuses.length],
    total: NumberDecimal(((i * 37) % 30000 / 100).toFixed(2)),
    orderedAt: new Date(Date.UTC(2021, 0, 1) + i * 180 * 1000),
    items: Array.from({ length: 1 + (i % 3) }, (_, k) => ({ sku: `SKU-${(i + k) % 2000}`, qty: 1 + k })),
  });
  if (batch.length === 1000) {
    db.orders.insertMany(batch);
    batch = [];
  }
}

db.orders.createIndex({ customerId: 1 });
db.orders.createIndex({ status: 1, orderedAt: -1 });
