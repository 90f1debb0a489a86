"""Which picture on disk already shows a job's result (``workflow.previews``)."""

from pathlib import Path

from conjure.jobs.model import Job
from conjure.workflow.previews import source_picture


def test_a_model_made_from_a_picked_candidate_is_shown_by_that_candidate(tmp_path):
    folder = tmp_path / "parent"
    candidates = Job(service="voxelai", operation="candidates",
                     result_files=["candidate_1.png", "candidate_2.png"])
    paths = [folder / name for name in candidates.result_files]
    model = Job(service="voxelai", operation="voxelize", params={"image": str(paths[1])},
                result_files=["voxel.vox"], parent_id=candidates.id)
    assert source_picture(model, [tmp_path / "voxel.vox"], candidates, paths) == paths[1]


def test_a_job_whose_results_are_pictures_is_shown_by_its_first(tmp_path):
    candidates = Job(service="voxelai", operation="candidates",
                     result_files=["candidate_2.png", "candidate_1.png"])
    paths = [tmp_path / name for name in candidates.result_files]
    assert source_picture(candidates, paths, None, []) == tmp_path / "candidate_1.png"


def test_other_models_have_no_picture_on_disk(tmp_path):
    user_picture = str(tmp_path / "photo.png")
    model = Job(service="voxelai", operation="voxelize", params={"image": user_picture},
                result_files=["voxel.vox"])
    assert source_picture(model, [Path("voxel.vox")], None, []) is None
    parent = Job(service="thrixel", operation="create", result_files=["m.glb"])
    edit = Job(service="thrixel", operation="edit", result_files=["e.glb"], parent_id=parent.id)
    assert source_picture(edit, [Path("e.glb")], parent, [Path("m.glb")]) is None
