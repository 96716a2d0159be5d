DROP TABLE instance_actor;
ALTER TABLE forums DROP COLUMN private_key, DROP COLUMN public_key;
ALTER TABLE users DROP COLUMN private_key, DROP COLUMN public_key;
