using S3Block.Cache.Journal;

namespace S3Block.Tests.Journal;

public sealed class WriteCompletionWindowTests
{
    [Fact]
    public void Written_through_advances_only_over_a_contiguous_run()
    {
        var window = new WriteCompletionWindow(10);
        for (var s = 11; s <= 15; s++)
        {
            window.Begin(s);
        }

        window.Complete(13);
        Assert.Equal(10, window.WrittenThrough);
        window.Complete(11);
        Assert.Equal(11, window.WrittenThrough);
        window.Complete(12);
        Assert.Equal(13, window.WrittenThrough);
        window.Complete(15);
        window.Complete(14);
        Assert.Equal(15, window.WrittenThrough);
        Assert.Equal(0, window.InFlight);
    }

    [Fact]
    public void Grows_past_its_initial_size_without_losing_completions()
    {
        var window = new WriteCompletionWindow(0);
        for (var s = 1; s <= 1000; s++)
        {
            window.Begin(s);
            if (s % 2 == 0)
            {
                window.Complete(s);
            }
        }

        Assert.Equal(0, window.WrittenThrough);
        for (var s = 1; s <= 1000; s += 2)
        {
            window.Complete(s);
        }

        Assert.Equal(1000, window.WrittenThrough);
    }

    [Fact]
    public void Rejects_out_of_order_reservations_and_unknown_completions()
    {
        var window = new WriteCompletionWindow(0);
        Assert.Throws<InvalidOperationException>(() => window.Begin(2));
        window.Begin(1);
        Assert.Throws<InvalidOperationException>(() => window.Complete(2));
        window.Complete(1);
        Assert.Throws<InvalidOperationException>(() => window.Complete(1));
    }
}
