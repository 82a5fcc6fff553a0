using PSReplica.Engine.Planning;

namespace PSReplica.Engine.Tests.Planning;

/// <summary>The planner's walk order, which a basis listing relies on to drop what the planner has passed.</summary>
public sealed class PlanOrderTests
{
    [Theory]
    [InlineData("", "a")]
    [InlineData("a", "a/b")]
    [InlineData("a/b", "a-c")]
    [InlineData("a/b/c", "a/bc")]
    [InlineData("a/z", "a.b")]
    [InlineData("A", "a")]
    [InlineData("a/b", "a/c/d")]
    [InlineData("x/y/z", "y")]
    public void A_path_comes_before_another_as_the_planner_walks(string first, string second)
    {
        Assert.True(PlanOrder.Compare(first, second) < 0);
        Assert.True(PlanOrder.Compare(second, first) > 0);
        Assert.Equal(0, PlanOrder.Compare(first, first));
    }

    [Fact]
    public void The_order_is_the_depth_first_walk_with_names_in_ordinal_order()
    {
        string[] walk = ["", "a", "a/b", "a/b/c", "a/bc", "a-c", "a-c/x", "a.b", "b"];
        string[] shuffled = [.. walk.Reverse()];
        Array.Sort(shuffled, PlanOrder.Compare);
        Assert.Equal(walk, shuffled);
    }

    [Theory]
    [InlineData("", "a", true)]
    [InlineData("a", "a", true)]
    [InlineData("a", "a/b", true)]
    [InlineData("a", "ab", false)]
    [InlineData("a/b", "a", false)]
    public void Contains_holds_for_a_directory_and_what_is_below_it(string ancestor, string path, bool expected) =>
        Assert.Equal(expected, PlanOrder.Contains(ancestor, path));
}
