-- Which delivery worker holds an instance's lease: its process id and a token drawn when its
-- worker starts. A worker renews, and lets go of, only its own leases, so processes sharing one
-- database never take an instance from each other, and the instances of a process that died
-- are taken over by the others as soon as its leases end.
ALTER TABLE instances ADD COLUMN lease_owner TEXT;
