"""How the services' credentials are named inside sentences ("No Thrixel API key: ...")."""

from conjure.providers.services import BY_ID


def test_a_credential_keeps_its_capitals_inside_a_sentence_where_it_is_an_acronym():
    assert BY_ID["thrixel"].key_words == "API key"
    assert BY_ID["tripo"].key_words == "API key"
    assert BY_ID["pixal3d"].key_words == "subscription key"
    assert BY_ID["voxelai"].key_words == "access token"
