-- Members can be removed: a token no longer needs a membership row to exist (a removed
-- member's tokens stay, revoked, for the record), only its user. Authentication joins the
-- membership, so a token of someone who is no longer a member authenticates nobody.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_tenant_id_user_id_fkey;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);
