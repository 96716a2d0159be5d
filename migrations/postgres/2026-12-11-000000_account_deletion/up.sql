-- Leaving: a deleted account keeps its row (its posts, anonymised, still name it, and its old
-- address stays out of use), renamed, without password or e-mail, marked when it was deleted.
-- For a person elsewhere, when their server said they were deleted.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
