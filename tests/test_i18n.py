from django.urls import reverse


def test_russian_is_the_default(client, alpha):
    client.force_login(alpha.admin)
    body = client.get(reverse("user-list")).content.decode()
    assert '<html lang="ru">' in body
    assert "Сотрудники" in body


def test_an_english_browser_still_gets_russian_until_the_switch(client, alpha):
    client.force_login(alpha.admin)
    body = client.get(reverse("user-list"), headers={"Accept-Language": "en-US,en"}).content
    assert "Сотрудники" in body.decode()


def test_the_english_switch(client, alpha):
    client.force_login(alpha.admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("user-list")).content.decode()
    assert '<html lang="en">' in body
    assert "Employees" in body
    assert "Add employee" in body
    assert "Сотрудники" not in body
