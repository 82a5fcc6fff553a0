using System.Collections.Generic;

namespace PSReplica.Ssh.Tests;

public sealed class AlgorithmListTests
{
    // What a client might implement, in its own order, and PSReplica's preference over it.
    private static readonly string[] s_supported = ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha1"];
    private static readonly string[] s_preferred = ["mlkem768x25519-sha256", "curve25519-sha256", "sntrup761x25519-sha512@openssh.com"];

    [Fact]
    public void Without_a_list_the_preferred_names_come_first_and_the_rest_keep_their_order()
    {
        Assert.Equal(["curve25519-sha256", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha1"],
            AlgorithmList.Resolve(s_supported, s_preferred, null, "KexAlgorithms"));
    }

    [Fact]
    public void A_plain_list_replaces_the_default_set_and_unsupported_names_are_passed_over()
    {
        Assert.Equal(["ecdh-sha2-nistp256", "curve25519-sha256"],
            AlgorithmList.Resolve(s_supported, s_preferred, "ecdh-sha2-nistp256,unknown-kex,curve25519-sha256,ecdh-sha2-nistp256", "KexAlgorithms"));
    }

    [Fact]
    public void A_caret_list_goes_to_the_head_of_the_default_set()
    {
        Assert.Equal(["sntrup761x25519-sha512@openssh.com", "diffie-hellman-group14-sha1", "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256"],
            AlgorithmList.Resolve(s_supported, s_preferred, "^sntrup761x25519-sha512@openssh.com,diffie-hellman-group14-sha1", "KexAlgorithms"));
    }

    [Fact]
    public void A_minus_list_removes_names_and_wildcards()
    {
        Assert.Equal(["sntrup761x25519-sha512@openssh.com", "ecdh-sha2-nistp256"],
            AlgorithmList.Resolve(s_supported, s_preferred, "-curve25519*,diffie-hellman-group14-sha?", "KexAlgorithms"));
    }

    [Fact]
    public void A_plus_list_appends_only_what_is_missing()
    {
        // Everything supported is in the default set already: '+' adds nothing and keeps the order.
        Assert.Equal(AlgorithmList.Resolve(s_supported, s_preferred, null, "KexAlgorithms"),
            AlgorithmList.Resolve(s_supported, s_preferred, "+diffie-hellman-group14-sha1,unknown-kex", "KexAlgorithms"));
        Assert.Equal(["b", "a"], AlgorithmList.Resolve(["a", "b"], ["b"], "+a", "Ciphers"));
    }

    [Theory]
    [InlineData("unknown-kex,other")]
    [InlineData("-*")]
    [InlineData("")]
    public void A_list_that_leaves_nothing_is_an_SshConfigInvalid_error(string list)
    {
        SyncException ex = Assert.Throws<SyncException>(() => AlgorithmList.Resolve(s_supported, s_preferred, list, "KexAlgorithms"));
        Assert.Equal(ErrorIds.SshConfigInvalid, ex.ErrorId);
        Assert.Contains("KexAlgorithms", ex.Message, System.StringComparison.Ordinal);
        Assert.Contains("curve25519-sha256", ex.Message, System.StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_key_exchange_prefers_the_fast_exchanges_and_still_offers_sntrup761()
    {
        List<string> order = [.. SshConnector.DefaultKeyExchanges];
        Assert.Equal("mlkem768x25519-sha256", order[0]);
        Assert.True(order.IndexOf("curve25519-sha256") < order.IndexOf("sntrup761x25519-sha512@openssh.com"));
    }
}
