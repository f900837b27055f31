using System.Security.Cryptography;
using System.Text;
using S3Block.ObjectStore;

namespace S3Block.TestKit;

/// <summary>
/// The behaviour every <see cref="IObjectStore"/> must show, run against the local directory store and against a real
/// S3 server. Each test gets a fresh, empty namespace from <see cref="CreateStore"/>.
/// </summary>
public abstract class ObjectStoreContract
{
    /// <summary>A store over an empty namespace (its own folder, bucket or prefix).</summary>
    protected abstract IObjectStore CreateStore();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Put_then_get_returns_the_bytes_and_the_md5_etag()
    {
        using var store = CreateStore();
        var data = RandomBytes(10_000);
        var etag = await store.PutAsync("a/b/object", data, PutCondition.None, Ct);

        var got = await store.GetAsync("a/b/object", null, Ct);

        Assert.Equal(data, got.Data);
        Assert.Equal(etag, got.ETag);
        Assert.Equal(Md5Hex(data), etag);
        Assert.Equal(data.Length, got.ObjectSize);
    }

    [Fact]
    public async Task Empty_objects_round_trip()
    {
        using var store = CreateStore();
        await store.PutAsync("empty", ReadOnlyMemory<byte>.Empty, PutCondition.None, Ct);

        var got = await store.GetAsync("empty", null, Ct);
        var head = await store.HeadAsync("empty", Ct);

        Assert.Empty(got.Data);
        Assert.Equal(0, head.Size);
    }

    [Fact]
    public async Task Missing_keys_are_not_found_for_get_and_head()
    {
        using var store = CreateStore();

        var get = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetAsync("nothing/here", null, Ct));
        var head = await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("nothing/here", Ct));

        Assert.Equal(ObjectStoreErrorKind.NotFound, get.Kind);
        Assert.Equal(ObjectStoreErrorKind.NotFound, head.Kind);
    }

    [Fact]
    public async Task Head_reports_size_and_etag()
    {
        using var store = CreateStore();
        var data = RandomBytes(1234);
        var etag = await store.PutAsync("k", data, PutCondition.None, Ct);

        var info = await store.HeadAsync("k", Ct);

        Assert.Equal("k", info.Key);
        Assert.Equal(1234, info.Size);
        Assert.Equal(etag, info.ETag);
        Assert.True(info.LastModified > DateTimeOffset.UtcNow.AddHours(-1));
    }

    [Fact]
    public async Task Ranges_return_exactly_the_requested_bytes()
    {
        using var store = CreateStore();
        var data = RandomBytes(100_000);
        await store.PutAsync("r", data, PutCondition.None, Ct);

        var first = await store.GetAsync("r", new ByteRange(0, 1), Ct);
        var middle = await store.GetAsync("r", new ByteRange(4096, 8192), Ct);
        var last = await store.GetAsync("r", new ByteRange(data.Length - 1, 1), Ct);

        Assert.Equal(data[..1], first.Data);
        Assert.Equal(data[4096..(4096 + 8192)], middle.Data);
        Assert.Equal(data[^1..], last.Data);
        Assert.Equal(data.Length, middle.ObjectSize);
    }

    [Fact]
    public async Task A_range_past_the_end_is_cut_and_one_starting_past_the_end_is_invalid()
    {
        using var store = CreateStore();
        var data = RandomBytes(1000);
        await store.PutAsync("r", data, PutCondition.None, Ct);

        var tail = await store.GetAsync("r", new ByteRange(900, 500), Ct);
        var beyond = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetAsync("r", new ByteRange(1000, 10), Ct));

        Assert.Equal(data[900..], tail.Data);
        Assert.Equal(ObjectStoreErrorKind.InvalidRange, beyond.Kind);
    }

    [Fact]
    public async Task Unconditional_put_overwrites()
    {
        using var store = CreateStore();
        var first = await store.PutAsync("k", "one"u8.ToArray(), PutCondition.None, Ct);
        var second = await store.PutAsync("k", "two"u8.ToArray(), PutCondition.None, Ct);

        var got = await store.GetAsync("k", null, Ct);

        Assert.NotEqual(first, second);
        Assert.Equal("two"u8.ToArray(), got.Data);
    }

    [Fact]
    public async Task Create_only_put_succeeds_once_and_then_fails_without_changing_the_object()
    {
        using var store = CreateStore();
        await store.PutAsync("lease", "mine"u8.ToArray(), PutCondition.CreateOnly, Ct);

        var lost = await Assert.ThrowsAsync<ObjectStoreException>(
            () => store.PutAsync("lease", "theirs"u8.ToArray(), PutCondition.CreateOnly, Ct));

        Assert.Equal(ObjectStoreErrorKind.PreconditionFailed, lost.Kind);
        Assert.Equal("mine"u8.ToArray(), (await store.GetAsync("lease", null, Ct)).Data);
    }

    [Fact]
    public async Task Compare_and_swap_succeeds_with_the_current_etag_and_fails_with_a_stale_one()
    {
        using var store = CreateStore();
        var v1 = await store.PutAsync("cas", "v1"u8.ToArray(), PutCondition.None, Ct);
        var v2 = await store.PutAsync("cas", "v2"u8.ToArray(), PutCondition.IfMatch(v1), Ct);

        var stale = await Assert.ThrowsAsync<ObjectStoreException>(
            () => store.PutAsync("cas", "v3"u8.ToArray(), PutCondition.IfMatch(v1), Ct));

        Assert.Equal(ObjectStoreErrorKind.PreconditionFailed, stale.Kind);
        var now = await store.GetAsync("cas", null, Ct);
        Assert.Equal("v2"u8.ToArray(), now.Data);
        Assert.Equal(v2, now.ETag);
    }

    [Fact]
    public async Task Compare_and_swap_on_a_missing_key_fails()
    {
        using var store = CreateStore();

        var e = await Assert.ThrowsAsync<ObjectStoreException>(
            () => store.PutAsync("absent", "x"u8.ToArray(), PutCondition.IfMatch(Md5Hex("x"u8.ToArray())), Ct));

        // RadosGW and the local store say 412; AWS says 404. Either means "you do not hold it".
        Assert.Contains(e.Kind, new[] { ObjectStoreErrorKind.PreconditionFailed, ObjectStoreErrorKind.NotFound });
        await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("absent", Ct));
    }

    [Fact]
    public async Task Concurrent_create_only_racers_have_exactly_one_winner()
    {
        using var store = CreateStore();
        const int racers = 16;
        var outcomes = await Task.WhenAll(Enumerable.Range(0, racers).Select(i => Task.Run(async () =>
        {
            try
            {
                await store.PutAsync("race", Encoding.UTF8.GetBytes($"racer {i}"), PutCondition.CreateOnly, Ct);
                return i;
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
            {
                return -1;
            }
        }, Ct)));

        var winners = outcomes.Where(i => i >= 0).ToList();
        Assert.Single(winners);
        Assert.Equal($"racer {winners[0]}", Encoding.UTF8.GetString((await store.GetAsync("race", null, Ct)).Data));
    }

    [Fact]
    public async Task Concurrent_compare_and_swap_racers_have_exactly_one_winner()
    {
        using var store = CreateStore();
        var start = await store.PutAsync("cas-race", "start"u8.ToArray(), PutCondition.None, Ct);
        const int racers = 16;
        var outcomes = await Task.WhenAll(Enumerable.Range(0, racers).Select(i => Task.Run(async () =>
        {
            try
            {
                await store.PutAsync("cas-race", Encoding.UTF8.GetBytes($"racer {i}"), PutCondition.IfMatch(start), Ct);
                return i;
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
            {
                return -1;
            }
        }, Ct)));

        var winners = outcomes.Where(i => i >= 0).ToList();
        Assert.Single(winners);
        Assert.Equal($"racer {winners[0]}", Encoding.UTF8.GetString((await store.GetAsync("cas-race", null, Ct)).Data));
    }

    [Fact]
    public async Task Delete_removes_and_deleting_a_missing_key_succeeds()
    {
        using var store = CreateStore();
        await store.PutAsync("d", "x"u8.ToArray(), PutCondition.None, Ct);

        await store.DeleteAsync("d", Ct);
        await store.DeleteAsync("d", Ct);
        await store.DeleteAsync("never-existed", Ct);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetAsync("d", null, Ct));
        Assert.Equal(ObjectStoreErrorKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task Batch_delete_removes_the_listed_keys_treats_missing_ones_as_deleted_and_keeps_the_rest()
    {
        using var store = CreateStore();
        var keys = Enumerable.Range(0, 20).Select(i => $"batch/{i:D3}").ToList();
        await Task.WhenAll(keys.Select(k => store.PutAsync(k, "x"u8.ToArray(), PutCondition.None, Ct)));

        var failures = await store.DeleteManyAsync([.. keys.Take(10), "batch/missing-1", "batch/missing-2"], Ct);

        Assert.Empty(failures);
        var left = await store.ListAllAsync("batch/", Ct).Select(o => o.Key).ToListAsync(Ct);
        Assert.Equal(keys.Skip(10), left);
    }

    [Fact]
    public async Task Listing_pages_through_more_than_1000_keys_in_order_and_respects_the_prefix()
    {
        using var store = CreateStore();
        var keys = Enumerable.Range(0, 1100).Select(i => $"list/{i:D5}").ToList();
        using (var gate = new SemaphoreSlim(32))
        {
            await Task.WhenAll(keys.Select(async k =>
            {
                await gate.WaitAsync(Ct);
                try
                {
                    // The listing is under test, not 1100 PUTs in a row: a transient failure of one is tried again.
                    for (var attempt = 1; ; attempt++)
                    {
                        try
                        {
                            await store.PutAsync(k, "x"u8.ToArray(), PutCondition.None, Ct);
                            break;
                        }
                        catch (ObjectStoreException e) when (e.IsTransient && attempt < 5)
                        {
                            await Task.Delay(100 * attempt, Ct);
                        }
                    }
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await store.PutAsync("listing-neighbour", "x"u8.ToArray(), PutCondition.None, Ct);
        await store.PutAsync("other/1", "x"u8.ToArray(), PutCondition.None, Ct);

        var firstPage = await store.ListPageAsync("list/", null, 1000, Ct);
        var all = await store.ListAllAsync("list/", Ct).ToListAsync(Ct);

        Assert.Equal(1000, firstPage.Objects.Count);
        Assert.NotNull(firstPage.NextContinuationToken);
        Assert.Equal(keys, all.Select(o => o.Key));
        Assert.All(all, o => Assert.Equal(1, o.Size));
        Assert.Equal(["list/00000", "list/00001"], (await store.ListPageAsync("list/0000", null, 2, Ct)).Objects.Select(o => o.Key));
        Assert.Equal(["listing-neighbour"], await store.ListAllAsync("listing", Ct).Select(o => o.Key).ToListAsync(Ct));
    }

    [Fact]
    public async Task Large_objects_round_trip_whole_and_by_range()
    {
        using var store = CreateStore();
        var data = RandomBytes(9 * 1024 * 1024 + 17);
        var etag = await store.PutAsync("big", data, PutCondition.None, Ct);

        var whole = await store.GetAsync("big", null, Ct);
        var part = await store.GetAsync("big", new ByteRange(5 * 1024 * 1024 - 3, 2 * 1024 * 1024), Ct);

        Assert.Equal(Md5Hex(data), etag);
        Assert.True(data.AsSpan().SequenceEqual(whole.Data));
        Assert.True(data.AsSpan(5 * 1024 * 1024 - 3, 2 * 1024 * 1024).SequenceEqual(part.Data));
    }

    [Fact]
    public async Task A_cancelled_token_cancels_every_operation()
    {
        using var store = CreateStore();
        await store.PutAsync("c", "x"u8.ToArray(), PutCondition.None, Ct);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.GetAsync("c", null, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.HeadAsync("c", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PutAsync("c", "y"u8.ToArray(), PutCondition.None, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ListPageAsync("", null, 10, cancelled.Token));
        Assert.Equal("x"u8.ToArray(), (await store.GetAsync("c", null, Ct)).Data);
    }

    /// <summary>Deterministic pseudo-random bytes (the seed is the length, so failures reproduce).</summary>
    protected static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

#pragma warning disable CA5351 // S3's ETag is an MD5 by definition.
    private static string Md5Hex(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));
#pragma warning restore CA5351
}
