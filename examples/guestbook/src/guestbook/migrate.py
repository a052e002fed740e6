"""Create the guestbook's tables and its first entry in ``MYSQL_URL``'s database (idempotent)."""

from guestbook.store import connect

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS authors ("
    " id int AUTO_INCREMENT PRIMARY KEY, name varchar(80) NOT NULL, UNIQUE KEY (name))",
    "CREATE TABLE IF NOT EXISTS entries ("
    " id int AUTO_INCREMENT PRIMARY KEY, author_id int NOT NULL,"
    " message varchar(500) NOT NULL, signed_at timestamp NOT NULL DEFAULT current_timestamp,"
    " FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE)",
    "INSERT IGNORE INTO authors (id, name) VALUES (1, 'the keeper')",
    "INSERT IGNORE INTO entries (id, author_id, message) VALUES (1, 1, 'Welcome!')",
)


def main() -> None:
    """Apply the schema."""
    with connect() as connection, connection.cursor() as cursor:
        for statement in SCHEMA:
            cursor.execute(statement)


if __name__ == "__main__":
    main()
