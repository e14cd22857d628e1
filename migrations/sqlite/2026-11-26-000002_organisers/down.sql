DROP TABLE exports;
DROP TABLE sessions;
DROP TABLE organiser_tokens;
DROP TABLE organisers;
