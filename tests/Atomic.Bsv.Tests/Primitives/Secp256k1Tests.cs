using System.Security.Cryptography;
using System.Text;
using Atomic.Bsv.Primitives.Secp256k1;

namespace Atomic.Bsv.Tests.Primitives;

/// <summary>Theory data and helpers shared by the secp256k1, DER and key tests.</summary>
internal static class TestBackends
{
    public const string Order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

    public static IEnumerable<object[]> Both => [["native"], ["managed"]];

    public static byte[] Hex(string hex) => Convert.FromHexString(hex);

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static byte[] Sha256(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}

/// <summary>Tests of both <see cref="ISecp256k1"/> backends against known answers and against each other.</summary>
public class Secp256k1Tests
{
    [Fact]
    public void Backends_are_found_by_name_in_any_case_and_unknown_names_are_refused()
    {
        Secp256k1Backends.Get("managed").Should().BeSameAs(Secp256k1Backends.Managed);
        Secp256k1Backends.Get("Native").Should().BeSameAs(Secp256k1Backends.Native);
        FluentActions.Invoking(() => Secp256k1Backends.Get("openssl")).Should().Throw<ArgumentException>().WithMessage("*'managed' or 'native'*");
    }

    private const string GCompressed = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    private const string GUncompressed =
        "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

    public static IEnumerable<object[]> Backends => TestBackends.Both;

    // RFC 6979 (HMAC-SHA256) secp256k1 vectors with low S; messages are SHA-256 hashed first.
    public static IEnumerable<object[]> Rfc6979Vectors()
    {
        (string Key, string Message, string R, string S)[] vectors =
        [
            ("0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
                "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8", "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5"),
            ("0000000000000000000000000000000000000000000000000000000000000001", "All those moments will be lost in time, like tears in rain. Time to die...",
                "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b", "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21"),
            ("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
                "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0", "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5"),
            ("f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
                "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c", "58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea"),
            ("e91671c46231f833a6406ccbea0e3e392c76c167bac1cb013f6f1013980455c2",
                "There is a computer disease that anybody who works with computers knows about. It's a very serious disease and it interferes completely with the work. The trouble with computers is that you 'play' with them!",
                "b552edd27580141f3b2a5463048cb7cd3e047b97c9f98076c32dbdf85a68718b", "279fa72dd19bfae05577e06c7c0c1900c371fcd5893f7e1d56a37d30174671f6"),
        ];

        foreach (string backend in new[] { "native", "managed" })
        {
            foreach (var v in vectors)
            {
                yield return [backend, v.Key, v.Message, v.R + v.S];
            }
        }
    }

    // Each must be rejected by both backends, as libsecp256k1's parser does.
    public static IEnumerable<object[]> InvalidPublicKeys()
    {
        string[] keys =
        [
            "",
            "02",
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f817", // 32 bytes
            GCompressed + "00", // 34 bytes
            "00" + new string('0', 64), // prefix 00 (infinity) with 33 bytes
            "05" + GCompressed[2..], // unknown prefix 05
            "0079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", // prefix 00 with 33 bytes
            "020000000000000000000000000000000000000000000000000000000000000005", // x = 5: x^3 + 7 is not a square
            "02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30", // x = p + 1: valid only if reduced mod p
            "02ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // x >= p
            "04fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30" +
                "4218f20ae6c646b363db68605822fb14264ca8d2587fdd6fbc750d587e76a7ee", // x = p + 1 with a y that is on the curve mod p
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b9", // y off by one
            "0779be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8", // hybrid odd tag, even y
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8", // compressed tag, 65 bytes
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", // uncompressed tag, 33 bytes
            "04" + new string('0', 128), // the point at infinity has no SEC1 form here
        ];

        foreach (string backend in new[] { "native", "managed" })
        {
            foreach (string key in keys)
            {
                yield return [backend, key];
            }
        }
    }

    [Fact]
    public void Native_backend_is_the_libsecp256k1_that_Secp256k1Net_bundles()
    {
        Secp256k1Backends.Native.Should().NotBeNull("Secp256k1.Net ships libsecp256k1 for this platform and the native backend must load");
        Secp256k1Backends.Native!.Name.Should().Be("libsecp256k1");
        Secp256k1Backends.Native.Description.Should().StartWith("libsecp256k1 bundled with Secp256k1.Net 2.");
        Secp256k1Backends.Managed.Name.Should().Be("managed");
        Secp256k1Backends.Managed.Description.Should().StartWith("NBitcoin.Secp256k1 4.");
    }

    [Fact]
    public void Native_backend_loads_the_package_copy_of_libsecp256k1_not_a_system_one()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var native = Secp256k1Backends.Get("native");
        var publicKey = new byte[33];
        native.CreatePublicKey(TestBackends.Hex(new string('0', 63) + "1"), true, publicKey);

        // Every file mapped into this process whose name says libsecp256k1 must be the one under the test's own
        // bin folder (runtimes/<rid>/native/), even where a distribution's libsecp256k1 is installed too.
        string[] mapped = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[5].Contains("libsecp256k1", StringComparison.Ordinal))
            .Select(fields => string.Join(' ', fields[5..]))
            .Distinct()
            .ToArray();

        mapped.Should().NotBeEmpty();
        mapped.Should().OnlyContain(path => path.StartsWith(Path.Combine(AppContext.BaseDirectory, "runtimes"), StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Rfc6979Vectors))]
    public void Sign_matches_RFC_6979_known_answers(string backend, string keyHex, string message, string expectedCompact)
    {
        var secp = Secp256k1Backends.Get(backend);
        var signature = new byte[64];

        secp.Sign(TestBackends.Sha256(message), TestBackends.Hex(keyHex), signature);

        TestBackends.Hex(signature).Should().Be(expectedCompact);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void CreatePublicKey_of_one_is_the_generator(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var one = TestBackends.Hex("0000000000000000000000000000000000000000000000000000000000000001");
        var compressed = new byte[33];
        var uncompressed = new byte[65];

        secp.CreatePublicKey(one, true, compressed).Should().Be(33);
        secp.CreatePublicKey(one, false, uncompressed).Should().Be(65);

        TestBackends.Hex(compressed).Should().Be(GCompressed);
        TestBackends.Hex(uncompressed).Should().Be(GUncompressed);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SerializePublicKey_converts_between_forms_including_hybrid(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var output = new byte[65];

        secp.SerializePublicKey(TestBackends.Hex(GCompressed), false, output).Should().Be(65);
        TestBackends.Hex(output).Should().Be(GUncompressed);

        // G's y is even, so the hybrid form uses tag 06.
        secp.SerializePublicKey(TestBackends.Hex("06" + GUncompressed[2..]), true, output).Should().Be(33);
        TestBackends.Hex(output.AsSpan(0, 33)).Should().Be(GCompressed);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sign_then_Verify_round_trips_and_rejects_tampering(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var key = TestBackends.Hex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
        var hash = TestBackends.Sha256("round trip");
        var signature = new byte[64];
        var publicKey = new byte[33];
        secp.CreatePublicKey(key, true, publicKey);

        secp.Sign(hash, key, signature);

        secp.Verify(hash, signature, publicKey).Should().BeTrue();
        var uncompressed = new byte[65];
        secp.SerializePublicKey(publicKey, false, uncompressed);
        secp.Verify(hash, signature, uncompressed).Should().BeTrue();

        var otherHash = (byte[])hash.Clone();
        otherHash[0] ^= 1;
        secp.Verify(otherHash, signature, publicKey).Should().BeFalse();

        var otherSignature = (byte[])signature.Clone();
        otherSignature[63] ^= 1;
        secp.Verify(hash, otherSignature, publicKey).Should().BeFalse();

        secp.Verify(hash, signature, TestBackends.Hex(GCompressed)).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Verify_accepts_high_S_after_normalization(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var hash = TestBackends.Sha256("Satoshi Nakamoto");
        // The Satoshi Nakamoto vector for key 1 with s replaced by n - s.
        var highS = TestBackends.Hex(
            "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8" +
            "dbbd3162d46e9f9bef7feb87c16dc13b4f6568a87f4e83f728e2443ba586675c");

        secp.Verify(hash, highS, TestBackends.Hex(GCompressed)).Should().BeTrue();
        DerSignature.IsLowS(DerSignature.Encode(highS)).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Verify_rejects_r_or_s_of_zero_or_not_below_n(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var hash = TestBackends.Sha256("Satoshi Nakamoto");
        var publicKey = TestBackends.Hex(GCompressed);
        const string R = "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8";
        const string S = "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5";
        string zero = new('0', 64);
        string max = new('f', 64);

        secp.Verify(hash, TestBackends.Hex(R + S), publicKey).Should().BeTrue();
        foreach (string bad in new[] { zero + S, R + zero, TestBackends.Order + S, R + TestBackends.Order, max + S, R + max, zero + zero })
        {
            secp.Verify(hash, TestBackends.Hex(bad), publicKey).Should().BeFalse(bad);
        }
    }

    [Theory]
    [MemberData(nameof(InvalidPublicKeys))]
    public void Invalid_public_keys_are_rejected_everywhere(string backend, string keyHex)
    {
        var secp = Secp256k1Backends.Get(backend);
        var key = TestBackends.Hex(keyHex);
        var hash = TestBackends.Sha256("x");
        var signature = new byte[64];
        secp.Sign(hash, TestBackends.Hex("0000000000000000000000000000000000000000000000000000000000000001"), signature);
        var output = new byte[65];
        var tweak = new byte[32];
        tweak[31] = 1;

        secp.IsValidPublicKey(key).Should().BeFalse();
        secp.Verify(hash, signature, key).Should().BeFalse();
        secp.TryTweakAddPublicKey(key, tweak, true, output, out _).Should().BeFalse();
        secp.TryEcdhPoint(key, tweak, output).Should().BeFalse();
        var serialize = () => secp.SerializePublicKey(key, true, output);
        serialize.Should().Throw<ArgumentException>();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Hybrid_keys_with_matching_parity_are_accepted(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        // -G = (n-1)G has the odd y (G's is even), so its hybrid form is 07.
        var minusOne = TestBackends.Hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140");
        var uncompressed = new byte[65];
        secp.CreatePublicKey(minusOne, false, uncompressed);
        var compressed = new byte[33];
        secp.CreatePublicKey(minusOne, true, compressed);
        compressed[0].Should().Be(0x03);

        var hybrid = (byte[])uncompressed.Clone();
        hybrid[0] = 0x07;
        secp.IsValidPublicKey(hybrid).Should().BeTrue();
        hybrid[0] = 0x06;
        secp.IsValidPublicKey(hybrid).Should().BeFalse();

        secp.IsValidPublicKey(TestBackends.Hex("06" + GUncompressed[2..])).Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void IsValidPrivateKey_accepts_only_1_to_n_minus_1(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);

        secp.IsValidPrivateKey(TestBackends.Hex(new string('0', 63) + "1")).Should().BeTrue();
        secp.IsValidPrivateKey(TestBackends.Hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")).Should().BeTrue();
        secp.IsValidPrivateKey(new byte[32]).Should().BeFalse();
        secp.IsValidPrivateKey(TestBackends.Hex(TestBackends.Order)).Should().BeFalse();
        secp.IsValidPrivateKey(TestBackends.Hex(new string('f', 64))).Should().BeFalse();
        secp.IsValidPrivateKey(new byte[31]).Should().BeFalse();
        secp.IsValidPrivateKey([]).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sign_and_CreatePublicKey_throw_for_invalid_private_keys(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var hash = TestBackends.Sha256("x");
        var output = new byte[65];

        foreach (var key in new[] { new byte[32], TestBackends.Hex(TestBackends.Order), new byte[31] })
        {
            var sign = () => secp.Sign(hash, key, output);
            sign.Should().Throw<ArgumentException>();
            var create = () => secp.CreatePublicKey(key, true, output);
            create.Should().Throw<ArgumentException>();
        }

        var shortHash = () => secp.Sign(new byte[31], TestBackends.Hex(new string('0', 63) + "1"), output);
        shortHash.Should().Throw<ArgumentException>();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Tweaked_private_and_public_keys_stay_consistent(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var key = TestBackends.Hex("6a1751169c111b4667a6539ee1be6b7cd9f6e9c8fe011a5f2fe31e03a15e0ede");
        var tweak = TestBackends.Sha256("tweak");
        var publicKey = new byte[33];
        secp.CreatePublicKey(key, true, publicKey);

        var childKey = new byte[32];
        secp.TryTweakAddPrivateKey(key, tweak, childKey).Should().BeTrue();
        var fromPrivate = new byte[33];
        secp.CreatePublicKey(childKey, true, fromPrivate);
        var fromPublic = new byte[65];
        secp.TryTweakAddPublicKey(publicKey, tweak, true, fromPublic, out int written).Should().BeTrue();

        written.Should().Be(33);
        TestBackends.Hex(fromPublic.AsSpan(0, 33)).Should().Be(TestBackends.Hex(fromPrivate));

        secp.TryTweakAddPublicKey(publicKey, tweak, false, fromPublic, out written).Should().BeTrue();
        written.Should().Be(65);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Tweaks_fail_at_zero_infinity_or_out_of_range(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var one = TestBackends.Hex(new string('0', 63) + "1");
        var nMinusOne = TestBackends.Hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140");
        var order = TestBackends.Hex(TestBackends.Order);
        var scalar = new byte[32];
        var point = new byte[33];

        // 1 + (n-1) = 0 mod n and G + (n-1)G = infinity.
        secp.TryTweakAddPrivateKey(one, nMinusOne, scalar).Should().BeFalse();
        secp.TryTweakAddPublicKey(TestBackends.Hex(GCompressed), nMinusOne, true, point, out _).Should().BeFalse();

        secp.TryTweakAddPrivateKey(one, order, scalar).Should().BeFalse();
        secp.TryTweakAddPublicKey(TestBackends.Hex(GCompressed), order, true, point, out _).Should().BeFalse();
        secp.TryTweakAddPrivateKey(new byte[32], one, scalar).Should().BeFalse();

        // A zero tweak is accepted and leaves the key unchanged.
        secp.TryTweakAddPrivateKey(one, new byte[32], scalar).Should().BeTrue();
        scalar.Should().Equal(one);
        secp.TryTweakAddPublicKey(TestBackends.Hex(GCompressed), new byte[32], true, point, out _).Should().BeTrue();
        TestBackends.Hex(point).Should().Be(GCompressed);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Ecdh_points_are_symmetric(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var a = TestBackends.Sha256("alice");
        var b = TestBackends.Sha256("bob");
        var publicA = new byte[33];
        var publicB = new byte[65];
        secp.CreatePublicKey(a, true, publicA);
        secp.CreatePublicKey(b, false, publicB);

        var ab = new byte[33];
        var ba = new byte[33];
        secp.TryEcdhPoint(publicB, a, ab).Should().BeTrue();
        secp.TryEcdhPoint(publicA, b, ba).Should().BeTrue();

        ab.Should().Equal(ba);
        ab[0].Should().BeOneOf((byte)0x02, (byte)0x03);

        // k·G is just the public key of k.
        var kG = new byte[33];
        secp.TryEcdhPoint(TestBackends.Hex(GCompressed), a, kG).Should().BeTrue();
        kG.Should().Equal(publicA);

        secp.TryEcdhPoint(publicA, new byte[32], ab).Should().BeFalse();
        secp.TryEcdhPoint(publicA, TestBackends.Hex(TestBackends.Order), ab).Should().BeFalse();
    }

    [Fact]
    public void Backends_agree_on_random_keys_and_messages()
    {
        var native = Secp256k1Backends.Get("native");
        var managed = Secp256k1Backends.Get("managed");
        var random = new Random(20240601);
        Span<byte> key = stackalloc byte[32];
        Span<byte> other = stackalloc byte[32];
        Span<byte> hash = stackalloc byte[32];
        Span<byte> tweak = stackalloc byte[32];

        for (int i = 0; i < 200; i++)
        {
            random.NextBytes(key);
            random.NextBytes(other);
            random.NextBytes(hash);
            random.NextBytes(tweak);
            if (!native.IsValidPrivateKey(key) || !native.IsValidPrivateKey(other))
            {
                continue;
            }

            bool compressed = (i & 1) == 0;
            int length = compressed ? 33 : 65;

            var nativePublic = new byte[length];
            var managedPublic = new byte[length];
            native.CreatePublicKey(key, compressed, nativePublic);
            managed.CreatePublicKey(key, compressed, managedPublic);
            managedPublic.Should().Equal(nativePublic, "public keys must agree (iteration {0})", i);

            var nativeSignature = new byte[64];
            var managedSignature = new byte[64];
            native.Sign(hash, key, nativeSignature);
            managed.Sign(hash, key, managedSignature);
            managedSignature.Should().Equal(nativeSignature, "RFC 6979 signatures must agree (iteration {0})", i);

            native.Verify(hash, managedSignature, nativePublic).Should().BeTrue();
            managed.Verify(hash, nativeSignature, managedPublic).Should().BeTrue();

            // A different key: both must say no.
            var otherPublic = new byte[33];
            native.CreatePublicKey(other, true, otherPublic);
            native.Verify(hash, nativeSignature, otherPublic).Should().BeFalse();
            managed.Verify(hash, nativeSignature, otherPublic).Should().BeFalse();

            var nativeTweakedPublic = new byte[length];
            var managedTweakedPublic = new byte[length];
            bool nativeOk = native.TryTweakAddPublicKey(nativePublic, tweak, compressed, nativeTweakedPublic, out _);
            bool managedOk = managed.TryTweakAddPublicKey(nativePublic, tweak, compressed, managedTweakedPublic, out _);
            managedOk.Should().Be(nativeOk);
            managedTweakedPublic.Should().Equal(nativeTweakedPublic);

            var nativeTweakedPrivate = new byte[32];
            var managedTweakedPrivate = new byte[32];
            nativeOk = native.TryTweakAddPrivateKey(key, tweak, nativeTweakedPrivate);
            managedOk = managed.TryTweakAddPrivateKey(key, tweak, managedTweakedPrivate);
            managedOk.Should().Be(nativeOk);
            managedTweakedPrivate.Should().Equal(nativeTweakedPrivate);

            var nativeShared = new byte[33];
            var managedShared = new byte[33];
            native.TryEcdhPoint(otherPublic, key, nativeShared).Should().BeTrue();
            managed.TryEcdhPoint(otherPublic, key, managedShared).Should().BeTrue();
            managedShared.Should().Equal(nativeShared);

            // Random 33-byte strings are valid compressed points about half the time; both must agree which.
            var candidate = new byte[33];
            random.NextBytes(candidate);
            candidate[0] = (byte)(2 + (i & 1));
            managed.IsValidPublicKey(candidate).Should().Be(native.IsValidPublicKey(candidate), "point {0}", TestBackends.Hex(candidate));
        }
    }

    [Fact]
    public void Default_backend_is_native_when_available_and_not_overridden()
    {
        string? forced = Environment.GetEnvironmentVariable(Secp256k1Backends.EnvironmentVariable);
        if (string.IsNullOrEmpty(forced))
        {
            Secp256k1Backends.Default.Should().BeSameAs(Secp256k1Backends.Native);
        }
        else
        {
            Secp256k1Backends.Default.Name.Should().Be(forced == "native" ? "libsecp256k1" : "managed");
        }
    }
}
