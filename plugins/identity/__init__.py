"""Identity adapters: Argon2 password hashing and signed access tokens."""
