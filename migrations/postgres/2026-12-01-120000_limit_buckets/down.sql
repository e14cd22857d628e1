DROP TABLE limit_buckets;
