BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/CmdletTestSupport.ps1')

    function Get-TerminatingError([scriptblock] $Script) {
        try { & $Script; $null } catch { $_ }
    }

    function Format-Plan($Items) { @($Items | ForEach-Object { '{0}|{1}|{2}|{3}|{4}' -f $_.Action, $_.ItemType, $_.RelativePath, $_.Reason, $_.Itemize }) }

    # A source and a converged replica; returns @{ Src; Dst }.
    function New-Converged([string] $Name, [hashtable] $Files) {
        $src = New-TestTree -Root (Join-Path $TestDrive "$Name-src") -Files $Files
        $dst = Join-Path $TestDrive "$Name-dst"
        $null = Sync-Directory -Path $src -Destination $dst -ErrorAction Stop
        @{ Src = $src; Dst = $dst }
    }
}

Describe 'Get-SyncPlan' {
    Context 'what it emits' {
        BeforeAll {
            $script:src = New-TestTree -Root (Join-Path $TestDrive 'order-src') -Files ([ordered]@{
                    'z.txt' = 'zz'; 'a.txt' = 'a'; 'b/c.txt' = 'ccc'; 'b/a/d.txt' = 'd'; 'empty/' = $null })
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'link') -Target 'a.txt'
            $script:dst = Join-Path $TestDrive 'order-dst/nested'
        }

        It 'plans a fresh replica in execution order: the root, then each directory''s entries by name, a directory before its contents' {
            $plan = Get-SyncPlan -Path $src -Destination $dst
            @($plan.RelativePath) | Should -Be @('.', 'a.txt', 'b', 'b/a', 'b/a/d.txt', 'b/c.txt', 'empty', 'link', 'z.txt')
            @($plan | ForEach-Object { $_ }) | ForEach-Object { $_ | Should -BeOfType ([PSReplica.SyncItem]) }
        }

        It 'describes each planned item' {
            $plan = Get-SyncPlan -Path $src -Destination $dst
            $byPath = @{}; $plan | ForEach-Object { $byPath[$_.RelativePath] = $_ }
            $byPath['.'].Itemize | Should -Be 'cd+++++++++'
            $byPath['a.txt'].Action | Should -Be 'Create'
            $byPath['a.txt'].ItemType | Should -Be 'File'
            $byPath['a.txt'].Reason | Should -Be 'New'
            $byPath['a.txt'].Itemize | Should -Be '>f+++++++++'
            $byPath['a.txt'].Length | Should -Be 1
            $byPath['a.txt'].BytesTransferred | Should -Be 0
            $byPath['a.txt'].SourcePath | Should -Be (Join-Path $src 'a.txt')
            $byPath['a.txt'].DestinationPath | Should -Be (Join-Path $dst 'a.txt')
            $byPath['b/a/d.txt'].DestinationPath | Should -Be (Join-Path $dst 'b/a/d.txt')
            $byPath['empty'].Itemize | Should -Be 'cd+++++++++'
            $byPath['empty'].ItemType | Should -Be 'Directory'
            $byPath['link'].Itemize | Should -Be 'cL+++++++++'
            $byPath['link'].ItemType | Should -Be 'SymbolicLink'
            $byPath['link'].LinkTarget | Should -Be 'a.txt'
            $byPath['z.txt'].LastWriteTimeUtc | Should -Be (Get-Item (Join-Path $src 'z.txt')).LastWriteTimeUtc
        }

        It 'gives the same sequence on every call' {
            $first = Format-Plan (Get-SyncPlan -Path $src -Destination $dst -Delete)
            $second = Format-Plan (Get-SyncPlan -Path $src -Destination $dst -Delete)
            $first.Count | Should -Be 9
            ($second -join "`n") | Should -Be ($first -join "`n")
        }

        It 'changes nothing in the source or the destination, and does not create the destination' {
            $before = Get-TreeHash $src
            $null = Get-SyncPlan -Path $src -Destination $dst -Delete -IgnoreTimes
            Get-TreeHash $src | Should -Be $before
            Test-Path (Split-Path $dst) | Should -BeFalse
        }

        It 'does not write progress items or SyncSummary objects' {
            $out = @(Get-SyncPlan -Path $src -Destination $dst)
            @($out | Where-Object { $_ -isnot [PSReplica.SyncItem] }).Count | Should -Be 0
        }
    }

    Context 'against an existing destination' {
        It 'emits nothing for a converged replica' {
            $pair = New-Converged 'conv' @{ 'a.txt' = 'a'; 'd/b.txt' = 'b'; 'e/' = $null }
            @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Delete -ErrorVariable errs).Count | Should -Be 0
            $errs.Count | Should -Be 0
        }

        It 'plans deletions only with -Delete, first in their directory, contents before the directory' {
            $pair = New-Converged 'del' @{ 'b.txt' = 'b'; 'k/keep.txt' = 'k' }
            $null = New-TestTree -Root $pair.Dst -Files @{ 'a-old.txt' = 'x'; 'old/inner.txt' = 'y'; 'k/zz.txt' = 'z' }
            [IO.File]::WriteAllText((Join-Path $pair.Src 'c.txt'), 'new')
            @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst | Where-Object Action -EQ 'Delete').Count | Should -Be 0

            $before = Get-TreeHash $pair.Dst
            $plan = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Delete)
            Get-TreeHash $pair.Dst | Should -Be $before
            $deletes = @($plan | Where-Object Action -EQ 'Delete')
            @($deletes.RelativePath) | Should -Be @('old/inner.txt', 'old', 'a-old.txt', 'k/zz.txt')
            $deletes | ForEach-Object { $_.Reason | Should -Be 'Extraneous'; $_.Itemize | Should -Be '*deleting  ' }
            ($deletes | Where-Object RelativePath -EQ 'old').ItemType | Should -Be 'Directory'
            $paths = @($plan.RelativePath)
            [array]::IndexOf($paths, 'a-old.txt') | Should -BeLessThan ([array]::IndexOf($paths, 'c.txt'))
        }

        It 'reflects -Exclude and -Include, and excluded destination files are not planned for deletion' {
            $pair = New-Converged 'excl' @{ 'a.txt' = 'a' }
            $null = New-TestTree -Root $pair.Src -Files @{ 'n.bak' = '1'; 'keep.bak' = '2'; 'n.txt' = '3' }
            $null = New-TestTree -Root $pair.Dst -Files @{ 'old.bak' = '4'; 'old.txt' = '5' }
            $plan = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Delete -Exclude '*.bak' -Include 'keep.bak')
            @($plan | Where-Object Action -EQ 'Create' | ForEach-Object RelativePath) | Should -Be @('keep.bak', 'n.txt')
            @($plan | Where-Object Action -EQ 'Delete' | ForEach-Object RelativePath) | Should -Be @('old.txt')
        }

        It 'reflects -Filter' {
            $pair = New-Converged 'filt' @{ 'a.txt' = 'a' }
            $null = New-TestTree -Root $pair.Src -Files @{ 'n.log' = '1'; 'n.txt' = '3' }
            $plan = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Filter (New-SyncFilter -Exclude '*.log'))
            @($plan | Where-Object ItemType -EQ 'File' | ForEach-Object RelativePath) | Should -Be @('n.txt')
        }

        It 'finds content changes behind equal size and time only with -Checksum' {
            $pair = New-Converged 'sum' @{ 'a.txt' = 'aaaa'; 'b.txt' = 'bbbb' }
            $file = Join-Path $pair.Src 'a.txt'
            $time = Get-MTime $file
            [IO.File]::WriteAllText($file, 'AAAA')
            Set-MTime $file $time
            Set-MTime $pair.Src (Get-MTime $pair.Dst)
            @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst).Count | Should -Be 0
            $plan = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Checksum)
            $plan.Count | Should -Be 1
            $plan[0].RelativePath | Should -Be 'a.txt'
            $plan[0].Action | Should -Be 'Update'
            $plan[0].Reason | Should -Be 'ChecksumChanged'
            $plan[0].Itemize | Should -Be '>fc........'
        }

        It 'plans every file with -IgnoreTimes and only size changes with -SizeOnly' {
            $pair = New-Converged 'modes' @{ 'a.txt' = 'aaaa'; 'b.txt' = 'bbbb' }
            [IO.File]::WriteAllText((Join-Path $pair.Src 'b.txt'), 'bbbbb')
            $ignore = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -IgnoreTimes | Where-Object ItemType -EQ 'File')
            @($ignore.RelativePath) | Should -Be @('a.txt', 'b.txt')
            $ignore[0].Reason | Should -Be 'IgnoreTimes'
            $ignore[0].Action | Should -Be 'Update'
            $size = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -SizeOnly | Where-Object Action -EQ 'Update')
            @($size.RelativePath) | Should -Be @('b.txt')
            $size[0].Reason | Should -Be 'SizeChanged'
        }

        It 'reflects -ModifyWindow, -Update, -IgnoreExisting, -Preserve and -CopyLinks' {
            $pair = New-Converged 'opts' @{ 'a.txt' = 'aaaa'; 'b.txt' = 'bbbb' }
            $a = Join-Path $pair.Src 'a.txt'
            Set-MTime $a '2020-01-01 00:00:01'
            Set-MTime (Join-Path $pair.Dst 'a.txt') '2020-01-01 00:00:00'
            Set-MTime $pair.Src (Get-MTime $pair.Dst)
            (Get-SyncPlan -Path $pair.Src -Destination $pair.Dst).Reason | Should -Be 'TimeChanged'
            @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -ModifyWindow 1).Count | Should -Be 0

            Set-MTime $a '2019-01-01 00:00:00'
            Set-MTime $pair.Src (Get-MTime $pair.Dst)
            (Get-SyncPlan -Path $pair.Src -Destination $pair.Dst).RelativePath | Should -Be 'a.txt'
            @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Update).Count | Should -Be 0
            @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -IgnoreExisting).Count | Should -Be 0
            # Without Times the quick check still compares times (as rsync does), and says the time is not kept.
            $noTimes = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Preserve Permissions, Links)
            $noTimes.Count | Should -Be 1
            $noTimes[0].Itemize | Should -Be '>f..T......'
            # Only Links: a permission difference alone is no change.
            & chmod 600 (Join-Path $pair.Dst 'b.txt')
            @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Update -Preserve Links).Count | Should -Be 0
            (Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Update).Itemize | Should -Be '.f...p.....'
            & chmod 644 (Join-Path $pair.Dst 'b.txt')

            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $pair.Src 'l') -Target 'b.txt'
            Set-MTime $pair.Src (Get-MTime $pair.Dst)
            $linkItem = Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -CopyLinks | Where-Object RelativePath -EQ 'l'
            $linkItem.ItemType | Should -Be 'File'
            $linkItem.Itemize | Should -Be '>f+++++++++'
            (Get-SyncPlan -Path $pair.Src -Destination $pair.Dst | Where-Object RelativePath -EQ 'l').ItemType | Should -Be 'SymbolicLink'
        }
    }

    Context 'parameters and input' {
        BeforeAll {
            $script:inSrc = New-TestTree -Root (Join-Path $TestDrive 'in[1]') -Files @{ 'a.txt' = 'a' }
            $script:inDst = Join-Path $TestDrive 'in-dst'
        }

        It 'accepts -LiteralPath with [ in the name' {
            @(Get-SyncPlan -LiteralPath $inSrc -Destination $inDst).Count | Should -Be 2
        }

        It 'accepts -Source (alias) with an escaped wildcard, and positional wildcard paths' {
            @(Get-SyncPlan -Source ($inSrc -replace '\[1\]', '[[]1]') -Destination $inDst).Count | Should -Be 2
            @(Get-SyncPlan ($inSrc -replace '\[1\]', '?1?') $inDst).Count | Should -Be 2
        }

        It 'takes Path and Destination by property name from the pipeline' {
            @([pscustomobject]@{ Path = ($inSrc -replace '\[1\]', '[[]1]'); Destination = $inDst } | Get-SyncPlan).Count | Should -Be 2
        }

        It 'takes LiteralPath and Destination by property name from the pipeline' {
            @([pscustomobject]@{ LiteralPath = $inSrc; Destination = $inDst } | Get-SyncPlan).Count | Should -Be 2
        }

        It 'takes a directory from Get-Item (PSPath) from the pipeline' {
            @(Get-Item -LiteralPath $inSrc | Get-SyncPlan -Destination $inDst).Count | Should -Be 2
        }

        It 'fails like Sync-Directory: <Case>' -ForEach @(
            @{ Case = 'missing source'; Id = 'SourceNotFound' }
            @{ Case = 'same path'; Id = 'SameSourceAndDestination' }
            @{ Case = 'destination inside source'; Id = 'DestinationInsideSource' }
            @{ Case = 'checksum with size-only'; Id = 'InvalidParameterCombination' }
            @{ Case = 'malformed filter'; Id = 'InvalidFilterPattern' }
        ) {
            $src = New-TestTree -Root (Join-Path $TestDrive "fail-$Id") -Files @{ 'a.txt' = 'a' }
            $splat = switch ($Case) {
                'missing source' { @{ Path = "$src-nothing"; Destination = "$src-d" } }
                'same path' { @{ Path = $src; Destination = $src } }
                'destination inside source' { @{ Path = $src; Destination = "$src/inner" } }
                'checksum with size-only' { @{ Path = $src; Destination = "$src-d"; Checksum = $true; SizeOnly = $true } }
                'malformed filter' { @{ Path = $src; Destination = "$src-d"; Exclude = '[abc' } }
            }
            $before = Get-TreeHash $src
            $err = Get-TerminatingError { Get-SyncPlan @splat -ErrorAction SilentlyContinue }
            $err | Should -Not -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
            Get-TreeHash $src | Should -Be $before
            Test-Path "$src-d" | Should -BeFalse
            Test-Path "$src/inner" | Should -BeFalse
        }
    }
}
