"""The two synthetic regions and their looks: a low coastal one (like Charleston) and a
hilly bay one (like San Francisco)."""

from __future__ import annotations

import dataclasses

CLASSES = ("water", "wetland", "forest", "field", "suburban", "urban")
"""Land-cover classes, by index."""
WATER, WETLAND, FOREST, FIELD, SUBURBAN, URBAN = range(len(CLASSES))

CLASS_COLOURS = {  # for the land-cover map image
    WATER: (40, 90, 170),
    WETLAND: (120, 150, 100),
    FOREST: (30, 100, 40),
    FIELD: (200, 200, 110),
    SUBURBAN: (220, 150, 130),
    URBAN: (150, 40, 40),
}


@dataclasses.dataclass(frozen=True)
class RegionStyle:
    """What makes a region look like itself. Heights in metres, colours RGB 0-255."""

    name: str
    lon: float  # centre, decimal degrees
    lat: float
    sea_side: tuple[float, float]  # unit vector towards open water
    water_share: float  # fraction of the area under water
    wetland_share: float  # fraction of the land near water that is marsh
    forest_share: float  # of the rural land
    towns: int  # town centres
    town_size_m: float
    urban_core: float  # density threshold for urban (lower: more urban)
    relief_m: float  # hill amplitude
    building_height_m: tuple[float, float]  # suburban, urban
    roof_colours: tuple[tuple[int, int, int], ...]
    wall_colours: tuple[tuple[int, int, int], ...]
    vegetation: tuple[int, int, int]
    field_colour: tuple[int, int, int]
    water_colour: tuple[int, int, int]
    sky: tuple[int, int, int]
    haze: float  # 0 clear ... 1 thick


REGIONS: dict[str, RegionStyle] = {
    "charleston": RegionStyle(
        name="charleston",
        lon=-79.94,
        lat=32.78,
        sea_side=(0.8, -0.6),
        water_share=0.22,
        wetland_share=0.55,
        forest_share=0.55,
        towns=4,
        town_size_m=450,
        urban_core=0.8,
        relief_m=4.0,
        building_height_m=(7.0, 18.0),
        roof_colours=((90, 90, 95), (120, 70, 60), (160, 160, 150), (70, 80, 90)),
        wall_colours=((235, 225, 200), (200, 170, 140), (240, 240, 235), (180, 190, 170)),
        vegetation=(50, 105, 45),
        field_colour=(150, 170, 80),
        water_colour=(60, 90, 90),
        sky=(170, 200, 225),
        haze=0.55,
    ),
    "sanfrancisco": RegionStyle(
        name="sanfrancisco",
        lon=-122.44,
        lat=37.76,
        sea_side=(-0.3, 0.95),
        water_share=0.25,
        wetland_share=0.08,
        forest_share=0.35,
        towns=2,
        town_size_m=1300,
        urban_core=0.35,
        relief_m=160.0,
        building_height_m=(10.0, 45.0),
        roof_colours=((200, 190, 170), (170, 120, 100), (120, 120, 125), (215, 205, 190)),
        wall_colours=((245, 220, 200), (200, 220, 235), (240, 240, 230), (230, 200, 210)),
        vegetation=(80, 110, 60),
        field_colour=(200, 180, 110),
        water_colour=(40, 80, 120),
        sky=(140, 180, 230),
        haze=0.25,
    ),
}
