DROP TABLE instance_actor;
ALTER TABLE forums DROP COLUMN private_key;
ALTER TABLE forums DROP COLUMN public_key;
ALTER TABLE users DROP COLUMN private_key;
ALTER TABLE users DROP COLUMN public_key;
