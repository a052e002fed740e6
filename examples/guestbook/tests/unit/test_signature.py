from guestbook import signature


def test_signature_trims_the_message() -> None:
    assert signature(" ada ", "hello\n  world ") == "hello world -- ada"
