using PSReplica.Engine.Planning;

namespace PSReplica.Engine.Tests.Planning;

/// <summary>Issue 18, item 7: a plan's actions taken while they are made, the planner held back to a window ahead of the
/// runner's reports, and what is reported let go.</summary>
public sealed class PlanActionsTests
{
    private static PlannedAction Action(int n, SyncAction action = SyncAction.Create) =>
        new(ActionKind.CopyFile, new SyncItem(action, SyncItemType.File, "f" + n.ToString(System.Globalization.CultureInfo.InvariantCulture), SyncReason.New, ">f+++++++++"), null, null);

    [Fact]
    public void A_plan_made_before_it_runs_is_read_whole_and_can_take_actions_back()
    {
        var actions = new PlanActions();
        for (int i = 0; i < 3000; i++)
        {
            actions.Add(Action(i, i % 2 == 0 ? SyncAction.Create : SyncAction.Delete));
        }

        Assert.False(actions.Streams);
        Assert.True(actions.IsComplete);
        Assert.Equal(3000, actions.Count);
        Assert.Equal("f2999", actions[2999].Item.RelativePath);
        Assert.Equal(1500, actions.CountOf(SyncAction.Delete));

        actions.RemoveFrom(1025);
        Assert.Equal(1025, actions.Count);
        Assert.Equal(513, actions.CountOf(SyncAction.Create));
        Assert.Equal(512, actions.CountOf(SyncAction.Delete));
        actions.Add(Action(7));
        Assert.Equal("f7", actions[1025].Item.RelativePath);
        Assert.Equal(1026, new List<PlannedAction>(actions).Count);

        // Nothing is let go of a plan that is not streamed (Get-SyncPlan's items are read after the run).
        actions.Release(1000);
        Assert.Equal("f0", actions[0].Item.RelativePath);
    }

    [Fact]
    public async Task The_planner_waits_while_a_window_of_actions_is_unreported_and_goes_on_as_they_are_reported()
    {
        var actions = new PlanActions();
        actions.BeginStreaming();
        for (int i = 0; i < PlanActions.Capacity; i++)
        {
            actions.Add(Action(i));
        }

        using var added = new ManualResetEventSlim();
        Task planner = Task.Run(() =>
        {
            actions.Add(Action(PlanActions.Capacity));
            added.Set();
        });

        // The runner takes the first action: taken is not reported, so the planner still waits.
        Assert.True(actions.TryTake(0, out PlannedAction first));
        Assert.Equal("f0", first.Item.RelativePath);
        Assert.False(added.Wait(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(PlanActions.Capacity, actions.Count);

        actions.Release(1);
        await planner.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(added.IsSet);
        Assert.Equal(PlanActions.Capacity + 1, actions.Count);

        // What is reported is gone; what is not is there.
        Assert.Throws<InvalidOperationException>(() => actions[0]);
        Assert.Equal("f1", actions[1].Item.RelativePath);
        Assert.Throws<InvalidOperationException>(() => actions.RemoveFrom(5));
    }

    [Fact]
    public async Task The_runner_waits_for_each_action_until_the_plan_is_complete()
    {
        var actions = new PlanActions();
        actions.BeginStreaming();
        var taken = new List<string>();
        Task runner = Task.Run(() =>
        {
            for (int i = 0; actions.TryTake(i, out PlannedAction action); i++)
            {
                taken.Add(action.Item.RelativePath);
                actions.Release(i + 1);
            }
        });

        for (int i = 0; i < 5000; i++)
        {
            actions.Add(Action(i));
        }

        Assert.False(runner.IsCompleted);
        actions.Complete();
        await runner.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => "f" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)), taken);
    }

    [Fact]
    public void A_runner_that_needs_the_whole_plan_lets_the_planner_run_past_the_window()
    {
        var actions = new PlanActions();
        actions.BeginStreaming();
        Task planner = Task.Run(() =>
        {
            for (int i = 0; i < 3 * PlanActions.Capacity; i++)
            {
                actions.Add(Action(i));
            }

            actions.Complete();
        });

        Assert.True(actions.TryTake(0, out _));
        actions.WaitForCompletion();
        Assert.True(planner.IsCompletedSuccessfully);
        Assert.Equal(3 * PlanActions.Capacity, actions.Count);
    }

    [Fact]
    public async Task A_stopped_runner_ends_a_waiting_planner_and_a_failed_planner_is_rethrown_to_the_runner()
    {
        var actions = new PlanActions();
        actions.BeginStreaming();
        Task planner = Task.Run(() =>
        {
            for (int i = 0; ; i++)
            {
                actions.Add(Action(i));
            }
        });

        Assert.True(actions.TryTake(PlanActions.Capacity - 1, out _));
        actions.Abandon();
        await Assert.ThrowsAsync<OperationCanceledException>(() => planner.WaitAsync(TimeSpan.FromSeconds(30)));

        var failing = new PlanActions();
        failing.BeginStreaming();
        failing.Add(Action(0));
        failing.Complete(new SyncException(ErrorIds.SourceUnreadable, SyncErrorKind.ReadError, "gone"));
        Assert.True(failing.TryTake(0, out _));
        Assert.False(failing.TryTake(1, out _));
        Assert.Equal(ErrorIds.SourceUnreadable, Assert.Throws<SyncException>(failing.ThrowIfFailed).ErrorId);
    }
}
