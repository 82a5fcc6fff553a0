# -Sparse (rsync -S) through the cmdlets, side by side with Debian's `rsync -aS`: both copies of a sparse file (holes,
# stretches of random data, and written zeros) have the source's content and about the same small allocation; the plan
# of Get-SyncPlan -Sparse carries the switch to the Sync-Directory that applies it; -Sparse with -Inplace is refused.
# The trees are under the temp directory, which must be on a file system with holes (ext4, xfs, btrfs, tmpfs).
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-sparse-$([guid]::NewGuid().ToString('n'))"

    # A file of 64 MiB apparent size: 3 stretches of random data, 2 MiB of written zeros, holes elsewhere (also at the end).
    function New-SparseFile([string] $Path) {
        $null = New-Item -ItemType Directory -Path (Split-Path $Path) -Force
        $random = [Random]::new(18)
        $stream = [IO.File]::Open($Path, 'CreateNew', 'Write')
        try {
            foreach ($offset in 0L, (20MB + 1000), (60MB)) {
                $data = [byte[]]::new(100KB); $random.NextBytes($data)
                $stream.Position = $offset
                $stream.Write($data, 0, $data.Length)
            }
            $stream.Position = 30MB
            $stream.Write([byte[]]::new(2MB), 0, 2MB)
            $stream.SetLength(64MB)
        }
        finally { $stream.Dispose() }
        $Path
    }

    function Get-Allocated([string] $Path) { [long](& stat -c '%b' $Path) * 512 }
}

AfterAll {
    if ($script:WorkRoot) { & rm -rf -- $script:WorkRoot }
}

Describe 'Sync-Directory -Sparse' {
    BeforeAll {
        $script:src = Join-Path $WorkRoot 'src'
        $script:file = New-SparseFile (Join-Path $src 'disk.img')
    }

    It 'writes holes as rsync -aS does: the same content, about the same disk' {
        $psr = Join-Path $WorkRoot 'psr'
        $rsync = Join-Path $WorkRoot 'rsync'
        $items = @(Sync-Directory -Path $src -Destination $psr -Sparse -ErrorAction Stop)
        & rsync -aS "$src/" "$rsync/"
        $LASTEXITCODE | Should -Be 0

        $items.RelativePath | Should -Contain 'disk.img'
        & cmp -s $file (Join-Path $psr 'disk.img')
        $LASTEXITCODE | Should -Be 0 -Because 'the copy has the source''s content'
        $mine = Get-Allocated (Join-Path $psr 'disk.img')
        $theirs = Get-Allocated (Join-Path $rsync 'disk.img')
        (Get-Allocated $file) | Should -BeGreaterThan 2MB -Because 'the source''s written zeros are allocated'
        $mine | Should -BeLessThan 1MB
        $mine | Should -BeLessOrEqual ($theirs + 64KB) -Because "rsync -aS allocated $theirs bytes"
    }

    It 'carries -Sparse in the plan of Get-SyncPlan to the Sync-Directory that applies it' {
        $dst = Join-Path $WorkRoot 'planned'
        $plan = @(Get-SyncPlan -Path $src -Destination $dst -Sparse -ErrorAction Stop)
        $plan[0].Plan.Command | Should -Match ' -Sparse\b'

        $null = $plan | Sync-Directory -ErrorAction Stop
        & cmp -s $file (Join-Path $dst 'disk.img')
        $LASTEXITCODE | Should -Be 0
        Get-Allocated (Join-Path $dst 'disk.img') | Should -BeLessThan 1MB
    }

    It 'refuses -Sparse with -Inplace before anything is touched' {
        $dst = Join-Path $WorkRoot 'inplace'
        $failure = try { Sync-Directory -Path $src -Destination $dst -Sparse -Inplace -ErrorAction Stop; $null } catch { $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'InvalidParameterCombination,*'
        Test-Path $dst | Should -BeFalse
    }
}
