-- One database per service: no service reads another's tables.
CREATE DATABASE tsuhan_shops;
CREATE DATABASE tsuhan_customers;
CREATE DATABASE tsuhan_purchases;
CREATE DATABASE tsuhan_mailhistory;
CREATE DATABASE tsuhan_search;
