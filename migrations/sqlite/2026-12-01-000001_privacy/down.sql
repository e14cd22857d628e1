DROP TABLE confirmation_details;
DROP TABLE code_attempts;
DROP TABLE address_requests;
DROP TABLE signup_attempts;
